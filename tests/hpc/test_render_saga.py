"""bert-train phase 1 of configs/norbert1.toml on Saga: the published 4 x 4 P100 job (accel) and the
same 16 ranks on the A100 nodes, whose environment is swapped to Zen2Env first."""
from __future__ import annotations

import subprocess

from norlm import __version__

from tests.hpc.rendered import bert_train_words, render_norbert1

EASYBUILD = [
    'type module >/dev/null 2>&1 || source "/etc/profile.d/z00_lmod.sh"',
    "module --quiet purge",
    'module use "${EASYBUILD_PREFIX:-$HOME/.local/easybuild}/modules/all"',
    "module load NorLM/0.1.0-foss-2024a-CUDA-12.6.0",
    "module list 2>&1",
]
SCRATCH = "# Scratch: $LOCALSCRATCH, the node's disk, when the job asks for --gres=localscratch:<size>"
BATCH = "# Global batch, phase 1: 768 = 16 ranks x 48 per rank x 1 accumulation step(s) (config written for 16 ranks)"


def test_saga_accel(work):
    job = render_norbert1("saga", "nn9851k")
    assert job.sbatch == [
        "--job-name=norlm-norbert1-bert-train-p1", "--account=nn9851k", "--partition=accel", "--nodes=4",
        "--ntasks-per-node=4", "--cpus-per-task=6", "--mem-per-cpu=15G", "--gpus-per-node=4",
        "--time=14-00:00:00", f"--output={work}/slurm/logs/%x-%j.out", "--signal=USR1@900"]
    assert job.comments == [
        f"# Rendered by norlm {__version__} `norlm sbatch` for cluster 'saga' from norbert1.toml; edit the config "
        "or profile, not this file.",
        "# 4 node(s) x 4 task(s), 16 GPU(s) (P100, 4 per node) on x86_64; software route: modules",
        "# Engine: horovod, one rank per GPU launched by srun", SCRATCH, BATCH]
    assert job.software == EASYBUILD
    assert job.collective_env == []  # Saga's EasyBuild OpenMPI/NCCL need nothing extra
    assert job.norlm == 'NORLM="python -m norlm"'
    assert job.launch == "srun " + bert_train_words(1, "horovod", 48, 1)  # the site's default MPI plugin
    assert 'export NORLM_LOCAL_SCRATCH="${LOCALSCRATCH:-}"' in job.text
    assert subprocess.run(["bash", "-n", str(job.path)]).returncode == 0


def test_saga_a100_swaps_to_zen2env_before_loading(work):
    job = render_norbert1("saga", "nn9851k", "hpc.bert_train.partition=a100")
    assert job.sbatch[2:9] == ["--partition=a100", "--nodes=4", "--ntasks-per-node=4", "--cpus-per-task=8",
                               "--mem-per-cpu=30G", "--gpus-per-node=4", "--time=14-00:00:00"]
    assert job.comments[1] == "# 4 node(s) x 4 task(s), 16 GPU(s) (A100, 4 per node) on x86_64; software route: modules"
    assert job.comments[-1] == BATCH
    assert job.software == EASYBUILD[:2] + ["module --force swap StdEnv Zen2Env"] + EASYBUILD[2:]
    assert job.launch == "srun " + bert_train_words(1, "horovod", 48, 1)


def test_saga_phase2_keeps_the_global_batch_128(work):
    job = render_norbert1("saga", "nn9851k", phase=2)
    assert job.comments[-1] == ("# Global batch, phase 2: 128 = 16 ranks x 8 per rank x 1 accumulation step(s) "
                                "(config written for 16 ranks)")
    assert job.launch == "srun " + bert_train_words(2, "horovod", 8, 1)
