"""bert-train phase 1 of configs/norbert1.toml on Roihu: 16 GPUs are more than gpumedium allows (4 per
job), so the job goes to gpularge as 4 nodes x 4 GH200; the site module python-tensorflow/2.21 with our
extra packages in a per-project user base installed once; tf.distribute ranks under srun."""
from __future__ import annotations

import subprocess

from tests.conftest import REPO
from tests.hpc.rendered import bert_train_words, render_norbert1

USERBASE = [
    'export PYTHONUSERBASE="${NORLM_PYUSERBASE:-/projappl/${SLURM_JOB_ACCOUNT}/norlm/python-$(uname -m)}"',
    'export PATH="$PYTHONUSERBASE/bin:$PATH"',
    f'extras="{REPO}/recipes/containers/extras.txt"',
    'stamp="$PYTHONUSERBASE/.norlm-extras-$(sha256sum "$extras" | cut -c1-16)"',
    'if [ ! -e "$stamp" ]; then',
]


def test_roihu_gpularge(work):
    job = render_norbert1("roihu", "project_2001234")
    assert job.sbatch == [
        "--job-name=norlm-norbert1-bert-train-p1", "--account=project_2001234", "--partition=gpularge",
        "--nodes=4", "--ntasks-per-node=4", "--cpus-per-task=72", "--mem=800G", "--gres=gpu:gh200:4",
        "--time=1-12:00:00", f"--output={work}/slurm/logs/%x-%j.out", "--signal=USR1@900"]
    assert job.comments[1:] == [
        "# 4 node(s) x 4 task(s), 16 GPU(s) (GH200, 4 per node) on aarch64; software route: modules",
        "# Engine: tf-distribute, one rank per GPU launched by srun",
        "# Scratch: $TMPDIR, 150 GiB per GPU job ($LOCAL_SCRATCH/--gres=nvme only on XL and visualisation nodes)",
        "# Global batch, phase 1: 768 = 16 ranks x 48 per rank x 1 accumulation step(s) (config written for 16 ranks)"]
    software = job.software
    assert software[:4] == ['type module >/dev/null 2>&1 || source "/etc/profile.d/z00_lmod.sh"',
                            "module --quiet purge", "module load python-tensorflow/2.21", "module list 2>&1"]
    assert software[4:9] == USERBASE
    assert '            ${NORLM_PIP:-python -m pip} install --user --quiet --requirement "$extras"' in software
    assert '    ) 9>"$PYTHONUSERBASE/.norlm-install.lock"' in software  # one installer at a time
    assert job.collective_env == ['export NCCL_DEBUG="WARN"']
    assert job.norlm == 'NORLM="python -m norlm"'
    assert job.launch == "srun --mpi=pmix " + bert_train_words(1, "tf-distribute", 48, 1)
    assert 'export NORLM_LOCAL_SCRATCH="${TMPDIR:-}"' in job.text
    assert subprocess.run(["bash", "-n", str(job.path)]).returncode == 0


def test_roihu_up_to_four_gpus_stay_in_gpumedium(work):
    job = render_norbert1("roihu", "project_2001234", "hpc.bert_train.gpus=4")
    assert job.sbatch[2:9] == ["--partition=gpumedium", "--nodes=1", "--ntasks-per-node=4", "--cpus-per-task=72",
                               "--mem=800G", "--gres=gpu:gh200:4", "--time=1-12:00:00"]
    # the config's batch was written for the 4 ranks it asks for: 4 x 48 = 192
    assert job.comments[-1].startswith("# Global batch, phase 1: 192 = 4 ranks x 48 per rank")
