"""bert-train phase 1 of configs/norbert1.toml on Olivia: 4 nodes x 4 GH200 (aarch64), the NGC
TensorFlow image under Apptainer with the host NCCL / aws-ofi-nccl / libfabric bound in, NCCL's LL128
protocol off (NVIDIA/nccl#2001), tf.distribute ranks under srun."""
from __future__ import annotations

import subprocess

from tests.conftest import REPO
from tests.hpc.rendered import bert_train_words, render_norbert1

IMAGE = f"${{NORLM_CONTAINERS:-{REPO}/containers}}/norlm-ngc-tf-arm64.sif"
BINDS = ["/cluster", "${EBROOTNCCL}/lib:/opt/host/nccl", "${EBROOTAWSMINOFIMINNCCL}/lib:/opt/host/aws-ofi-nccl",
         "/opt/cray/libfabric/2.3.1/lib64:/opt/host/libfabric", "/usr/lib64/libcxi.so.1:/opt/host/cxi/libcxi.so.1"]


def test_olivia_accel(work):
    job = render_norbert1("olivia", "nn9851k")
    assert job.sbatch == [
        "--job-name=norlm-norbert1-bert-train-p1", "--account=nn9851k", "--partition=accel", "--nodes=4",
        "--ntasks-per-node=4", "--cpus-per-task=70", "--mem-per-gpu=110G", "--gpus-per-node=4",
        "--time=7-00:00:00", f"--output={work}/slurm/logs/%x-%j.out", "--signal=USR1@900"]
    assert job.comments[1:] == [
        f"# 4 node(s) x 4 task(s), 16 GPU(s) (GH200, 4 per node) on aarch64; software route: container ({IMAGE})",
        "# Engine: tf-distribute, one rank per GPU launched by srun",
        "# Scratch: GPU jobs get $SCRATCH=/cluster/gpuscratch/jobs/$SLURM_JOB_ID (network); /localscratch is on "
        "CPU nodes only",
        "# Global batch, phase 1: 768 = 16 ranks x 48 per rank x 1 accumulation step(s) (config written for 16 ranks)"]
    assert job.software == [
        'type module >/dev/null 2>&1 || source "/etc/profile.d/z00_lmod.sh"',
        "module --quiet purge",
        "module load NRIS/GPU NCCL/2.22.3-GCCcore-13.3.0-CUDA-12.6.0",  # the host NCCL the image binds
        "module list 2>&1",
        f'NORLM_IMAGE="${{NORLM_IMAGE:-{IMAGE}}}"',
        '[ -r "$NORLM_IMAGE" ] || { echo "[norlm] container image $NORLM_IMAGE not found: build it with make '
        'container CLUSTER=olivia (recipes/containers/)" >&2; exit 2; }',
        'export APPTAINERENV_LD_LIBRARY_PATH="/opt/host/aws-ofi-nccl:/opt/host/nccl:/opt/host/libfabric:'
        '/opt/host/cxi:/usr/local/cuda/compat/lib:/usr/local/nvidia/lib64:/usr/local/cuda/lib64"']
    assert job.collective_env == [
        'export NCCL_PROTO="^LL128"', 'export NCCL_CROSS_NIC="1"', 'export NCCL_NET_GDR_LEVEL="PHB"',
        'export NCCL_SOCKET_IFNAME="hsn0,hsn1,hsn2,hsn3"', 'export FI_MR_CACHE_MONITOR="userfaultfd"']
    binds = ",".join([str(REPO), str(work), *BINDS])
    assert job.norlm == f'NORLM="apptainer exec --nv --bind {binds} $NORLM_IMAGE python -m norlm"'
    assert job.launch == "srun --mpi=pmix " + bert_train_words(1, "tf-distribute", 48, 1)
    assert 'export NORLM_LOCAL_SCRATCH="${SCRATCH:-}"' in job.text
    assert subprocess.run(["bash", "-n", str(job.path)]).returncode == 0


def test_olivia_cpu_stage_takes_the_x86_image_without_gpu_flag(work):
    from norlm.config import load_config
    from norlm.hpc.render import render

    [(_, path)] = render(load_config(REPO / "configs" / "norbert1.toml"), "olivia", "nn9851k", "vocab", 1, [])
    text = path.read_text()
    assert "#SBATCH --partition=small\n" in text and "#SBATCH --gpus" not in text
    assert "on x86_64; software route: container" in text
    assert f'NORLM_IMAGE="${{NORLM_IMAGE:-${{NORLM_CONTAINERS:-{REPO}/containers}}/norlm-ngc-tf-x86_64.sif}}"' in text
    # no --nv and no host NCCL on CPU nodes (their module is not loaded there)
    assert f'NORLM="apptainer exec --bind {REPO},{work},/cluster $NORLM_IMAGE python -m norlm"' in text
    assert "export NCCL_PROTO" not in text and "module load" not in text


def test_olivia_modules_route_on_request(work):
    job = render_norbert1("olivia", "nn9851k", "hpc.modules=['NRIS/GPU', 'TensorFlow/2.13.0-foss-2023a']",
                          route="modules")
    assert "module load NRIS/GPU TensorFlow/2.13.0-foss-2023a" in job.software
    assert job.norlm == 'NORLM="python -m norlm"' and not any("NORLM_IMAGE" in x for x in job.software)
