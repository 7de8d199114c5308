"""bert-train phase 1 of configs/norbert1.toml on LUMI: 16 GCDs are 2 nodes x 8, the ROCm TensorFlow
image under Singularity with the host's Slingshot libraries bound in, RCCL's variables, one Horovod
rank per GCD on the cores nearest to it (LUMI's CPU-binding masks)."""
from __future__ import annotations

import subprocess

from tests.conftest import REPO
from tests.hpc.rendered import bert_train_words, render_norbert1

IMAGE = f"${{NORLM_CONTAINERS:-{REPO}/containers}}/norlm-rocm-tf.sif"
MASKS = "--cpu-bind=mask_cpu:0xfe000000000000,0xfe00000000000000,0xfe0000,0xfe000000,0xfe,0xfe00,0xfe00000000,0xfe0000000000"


def test_lumi_standard_g(work):
    job = render_norbert1("lumi", "project_465000157")
    assert job.sbatch == [
        "--job-name=norlm-norbert1-bert-train-p1", "--account=project_465000157", "--partition=standard-g",
        "--nodes=2", "--ntasks-per-node=8", "--cpus-per-task=7", "--mem=480G", "--gpus-per-node=8",
        "--time=2-00:00:00", f"--output={work}/slurm/logs/%x-%j.out", "--signal=USR1@900"]
    assert job.comments[1:] == [
        f"# 2 node(s) x 8 task(s), 16 GPU(s) (MI250X-GCD, 8 per node) on x86_64; software route: container ({IMAGE})",
        "# Engine: horovod, one rank per GPU launched by srun",
        "# Scratch: no local disk: /tmp is RAM counted against --mem; /flash/<project> is the fast file system",
        "# Global batch, phase 1: 768 = 16 ranks x 48 per rank x 1 accumulation step(s) (config written for 16 ranks)"]
    assert job.software == [  # no module lines: everything is in the image
        f'NORLM_IMAGE="${{NORLM_IMAGE:-{IMAGE}}}"',
        '[ -r "$NORLM_IMAGE" ] || { echo "[norlm] container image $NORLM_IMAGE not found: build it with make '
        'container CLUSTER=lumi (recipes/containers/)" >&2; exit 2; }']
    assert job.collective_env == [
        'export NCCL_SOCKET_IFNAME="hsn"', 'export NCCL_NET_GDR_LEVEL="3"', 'export CXI_FORK_SAFE="1"',
        'export CXI_FORK_SAFE_HP="1"', 'export FI_CXI_DISABLE_CQ_HUGETLB="1"',
        'export MIOPEN_USER_DB_PATH="/tmp/${USER:-$(id -un)}-miopen-${SLURM_JOB_ID}"',
        'export MIOPEN_CUSTOM_CACHE_DIR="/tmp/${USER:-$(id -un)}-miopen-${SLURM_JOB_ID}"']
    binds = ",".join([str(REPO), str(work), "/var/spool/slurmd", "/opt/cray", "/usr/lib64/libcxi.so.1",
                      "/usr/lib64/libjansson.so.4", "/project", "/scratch", "/flash"])
    assert job.norlm == f'NORLM="singularity exec --rocm --bind {binds} $NORLM_IMAGE python -m norlm"'
    assert job.launch == f"srun {MASKS} " + bert_train_words(1, "horovod", 48, 1)
    assert ('export NORLM_LOCAL_SCRATCH="/flash/${SLURM_JOB_ACCOUNT}/${USER:-$(id -un)}/norlm-${SLURM_JOB_ID}"'
            in job.text)
    assert subprocess.run(["bash", "-n", str(job.path)]).returncode == 0


def test_lumi_phase2_global_batch_and_engine_override(work):
    job = render_norbert1("lumi", "project_465000157", "run.engine=tf-distribute", phase=2)
    assert job.comments[-1] == ("# Global batch, phase 2: 128 = 16 ranks x 8 per rank x 1 accumulation step(s) "
                                "(config written for 16 ranks)")
    assert job.comments[2] == "# Engine: tf-distribute, one rank per GPU launched by srun"
    assert job.launch == f"srun {MASKS} " + bert_train_words(2, "tf-distribute", 8, 1)
