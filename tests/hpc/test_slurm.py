"""The rendered Saga and Puhti job scripts, run unchanged on a real (local) Slurm whose partitions
imitate both clusters: the smoke pipeline with 2 Horovod ranks through srun + PMIx, a time limit
rejected at submission, and SIGUSR1 before the time limit -> checkpoint -> follow-up job resumes."""
from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, run_norlm

# a tiny BERT and a few steps, so the training jobs take seconds
BERT = ["bert.model_config=configs/bert/smoke.json", "bert.phase1.train_batch_size=4", "bert.phase1.train_steps=6",
        "bert.phase2.train_batch_size=2", "bert.phase2.train_steps=9", "bert.console_steps=1",
        "bert.display_loss_steps=1", "bert.save_checkpoints_steps=1000"]
ACCOUNTS = {"saga": "nn1234k", "puhti": "project_2001234", "local": "tests"}


def render(slurm, cluster: str, stage: str, work: Path, *extra: str, phase: int = 1) -> Path:
    proc = run_norlm("sbatch", "--config", "configs/smoke.toml", "--cluster", cluster, "--account",
                     ACCOUNTS[cluster], "--stage", stage, "--phase", str(phase), *BERT, *extra,
                     env=dict(slurm.env, NORLM_WORK=str(work)))
    return Path(proc.stdout.split(": ")[-1].strip())


def sbatch_wait(slurm, script: Path, *options: str) -> tuple[str, str]:
    """Submit with `sbatch --wait`; return (job id, the job's log)."""
    proc = slurm.run("sbatch", "--parsable", "--wait", *options, str(script), check=False, timeout=600)
    job_id = proc.stdout.strip().split(";")[0]
    logs = list((script.parent / "logs").glob(f"*-{job_id}.out"))
    log = logs[0].read_text() if logs else ""
    assert proc.returncode == 0, f"{script.name}: job {job_id} exited {proc.returncode}\n{proc.stderr}\n{log[-4000:]}"
    return job_id, log


@pytest.fixture(scope="module")
def saga_work(slurm, tmp_path_factory):
    """corpus -> vocab -> bert-data 1 -> bert-train 1 (2 ranks), each a Saga script under sbatch --wait."""
    work = tmp_path_factory.mktemp("saga") / "work"
    logs = {}
    for stage in ("corpus", "vocab", "bert-data", "bert-train"):
        _, logs[stage] = sbatch_wait(slurm, render(slurm, "saga", stage, work))
    return work, logs


def test_saga_scripts_run_the_smoke_pipeline(saga_work):
    work, logs = saga_work
    assert json.loads((work / "corpus" / "stats.json").read_text())
    assert len((work / "vocab" / "vocab.txt").read_text().splitlines()) == 2000
    manifest = json.loads((work / "bert" / "tfrecords" / "phase1" / "manifest.json").read_text())
    assert manifest
    final = json.loads((work / "bert" / "phase1" / "final.json").read_text())
    assert final["global_step"] == 6 if "global_step" in final else "step 6/6" in logs["bert-train"]
    run = json.loads((work / "bert" / "phase1" / "run-bert-train.json").read_text())
    assert run["workers"] == 2  # two Horovod ranks through srun --mpi=pmix
    log = logs["bert-train"]
    assert "account nn1234k, partition accel, GPUs on this node: 0,1" in log
    assert "Currently Loaded Modules" in log and "NorLM/0.1.0-foss-2024a-CUDA-12.6.0" in log
    assert "global batch 8 (4 x 1 x 2)" in log
    assert "partition normal" in logs["corpus"] and "GPUs on this node: none" in logs["vocab"]


def test_puhti_scripts_continue_the_pipeline(slurm, saga_work):
    work, _ = saga_work
    # a finished stage is skipped at the top of its script
    _, log = sbatch_wait(slurm, render(slurm, "puhti", "corpus", work))
    assert "corpus is already complete" in log and "partition small" in log
    for stage in ("bert-data", "bert-train"):
        _, log = sbatch_wait(slurm, render(slurm, "puhti", stage, work, phase=2))
    assert "account project_2001234, partition gpu, GPUs on this node: 0,1" in log
    assert "continuing phase 1 from" in log and "step 9/9" in log
    run = json.loads((work / "bert" / "phase2" / "run-bert-train.json").read_text())
    assert run["workers"] == 2 and (work / "bert" / "phase2" / "final.json").exists()


def test_time_over_partition_limit_is_rejected_at_submission(slurm, tmp_path):
    script = render(slurm, "puhti", "bert-train", tmp_path / "work", "hpc.bert_train.partition=gputest",
                    'hpc.bert_train.time="00:10:00"')
    ok = slurm.run("sbatch", "--test-only", str(script), check=False)
    assert ok.returncode == 0 and "to start at" in ok.stderr
    over = slurm.run("sbatch", "--time=00:30:00", str(script), check=False)
    assert over.returncode != 0
    assert "Requested time limit is invalid" in over.stderr
    assert slurm.run("squeue", "-h", "-p", "gputest").stdout.strip() == ""


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_usr1_checkpoints_and_the_follow_up_job_resumes(slurm, saga_work, tmp_path):
    src, _ = saga_work
    work = tmp_path / "work"
    shutil.copytree(src / "vocab", work / "vocab")
    shutil.copytree(src / "bert" / "tfrecords" / "phase1", work / "bert" / "tfrecords" / "phase1")
    proc = run_norlm("sbatch", "--config", "configs/smoke.toml", "--cluster", "local", "--account", "tests",
                     "--stage", "bert-train", "--phase", "1", "--submit", *BERT, "bert.phase1.train_steps=60",
                     "hpc.bert_train.chain=1", env=dict(slurm.env, NORLM_WORK=str(work)))
    first, follow = re.search(r"submitted bert-train-p1: job (\d+) -> (\d+)", proc.stdout).groups()
    logs = work / "slurm" / "logs"
    first_log = logs / f"norlm-smoke-bert-train-p1-{first}.out"
    _wait_for(lambda: first_log.exists() and re.search(r"^step [2-9]/60", first_log.read_text(), re.M),
              180, "the first training steps")
    slurm.run("scancel", "--signal=USR1", first)
    _wait_for(lambda: slurm.job(follow)["JobState"] in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"),
              240, "the follow-up job")
    text = first_log.read_text()
    stopped = re.search(r"stopped at step (\d+)/60 \(interrupted by SIGUSR1\)", text)
    assert stopped, text[-3000:]
    step = int(stopped.group(1))
    assert 2 <= step < 60
    assert (work / "bert" / "phase1" / f"model.ckpt-{step}.index").exists()
    assert slurm.job(first)["ExitCode"] == "143:0"  # what bert-train returns after a signal
    assert "the follow-up job resumes from the newest checkpoint" in text
    follow_text = (logs / f"norlm-smoke-bert-train-p1-{follow}.out").read_text()
    assert slurm.job(follow)["JobState"] == "COMPLETED", follow_text[-3000:]
    assert f"resumed from {work / 'bert' / 'phase1' / f'model.ckpt-{step}'}" in follow_text
    assert re.search(rf"^step {step + 1}/60", follow_text, re.M) and "step 60/60" in follow_text
    assert (work / "bert" / "phase1" / "final.json").exists()
