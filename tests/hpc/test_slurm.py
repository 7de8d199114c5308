"""The rendered Saga and Puhti job scripts, run unchanged on a real (local) Slurm whose partitions
imitate both clusters: the smoke pipeline chained with afterok, bert-train on 2 Horovod ranks through
srun + PMIx, SIGUSR1 -> checkpoint -> the follow-up job resumes, and a time limit over the
partition's rejected at submission."""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import run_norlm

pytestmark = pytest.mark.slow

# a tiny BERT and a few steps, so the training jobs take seconds on an idle machine
BERT = ["bert.model_config=configs/bert/smoke.json", "bert.phase1.train_batch_size=4", "bert.phase1.train_steps=40",
        "bert.console_steps=1", "bert.display_loss_steps=1", "bert.save_checkpoints_steps=1000"]
ACCOUNTS = {"saga": "nn1234k", "puhti": "project_2001234", "local": "tests"}
DONE = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL")


def norlm_sbatch(slurm, cluster: str, stage: str, work: Path, *extra: str, phase: int = 1) -> str:
    retired = ["--allow-retired"] if cluster == "puhti" else []
    return run_norlm("sbatch", "--config", "configs/smoke.toml", "--cluster", cluster, *retired, "--account",
                     ACCOUNTS[cluster], "--stage", stage, "--phase", str(phase), *BERT, *extra,
                     env=dict(slurm.env, NORLM_WORK=str(work))).stdout


def submitted(stdout: str, label: str) -> list[str]:
    return re.search(rf"submitted {label}: job ([\d >-]+)", stdout).group(1).split(" -> ")


def log_of(work: Path, label: str, job_id: str) -> str:
    path = work / "slurm" / "logs" / f"norlm-smoke-{label}-{job_id}.out"
    return path.read_text() if path.exists() else ""


def wait_for(predicate, timeout: float, what: str, every: float = 0.3):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def runs(slurm, tmp_path_factory):
    """Saga scripts through `norlm sbatch --submit`: corpus -> vocab -> bert-data -> bert-train with
    one follow-up job, SIGUSR1 to the first training job once it trains.  Meanwhile a Puhti
    bert-data phase-2 script runs under `sbatch --wait` after the vocabulary."""
    work = tmp_path_factory.mktemp("saga") / "work"
    jobs: dict[str, list[str]] = {}
    after: list[str] = []
    for stage in ("corpus", "vocab", "bert-data"):
        out = norlm_sbatch(slurm, "saga", stage, work, "--submit", *(["--after", after[-1]] if after else []))
        jobs[stage] = submitted(out, stage if stage != "bert-data" else "bert-data-p1")
        after.append(jobs[stage][-1])
    puhti_script = Path(norlm_sbatch(slurm, "puhti", "bert-data", work, phase=2).split(": ")[-1].strip())
    puhti = subprocess.Popen(["sbatch", "--parsable", "--wait", f"--dependency=afterok:{jobs['vocab'][0]}",
                              str(puhti_script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=slurm.env)
    try:
        out = norlm_sbatch(slurm, "saga", "bert-train", work, "--submit", "--after", after[-1],
                           "hpc.bert_train.chain=1")
        first, follow = jobs["bert-train"] = submitted(out, "bert-train-p1")
        wait_for(lambda: re.search(r"^step [2-9]/40", log_of(work, "bert-train-p1", first), re.M)
                 or slurm.job(first)["JobState"] in DONE, 600, "the first training steps", every=0.1)
        signalled = slurm.job(first)["JobState"] == "RUNNING"
        slurm.run("scancel", "--signal=USR1", first)
        wait_for(lambda: slurm.job(follow)["JobState"] in DONE, 600, "the follow-up training job")
        puhti_out, puhti_err = puhti.communicate(timeout=600)
    finally:
        if puhti.poll() is None:
            puhti.kill()
    return work, jobs, signalled, (puhti.returncode, puhti_out.strip(), puhti_err)


def test_saga_scripts_run_the_smoke_pipeline_with_afterok(slurm, runs):
    work, jobs, _, _ = runs
    for stage in ("corpus", "vocab", "bert-data"):
        job = slurm.job(jobs[stage][0])
        assert (job["JobState"], job["ExitCode"]) == ("COMPLETED", "0:0"), stage
    assert slurm.job(jobs["vocab"][0])["Dependency"] in ("(null)", f"afterok:{jobs['corpus'][0]}(unfulfilled)")
    assert json.loads((work / "corpus" / "stats.json").read_text())
    assert len((work / "vocab" / "vocab.txt").read_text().splitlines()) == 2000
    assert (work / "bert" / "tfrecords" / "phase1" / "manifest.json").exists()
    assert "partition normal, GPUs on this node: none" in log_of(work, "corpus", jobs["corpus"][0])
    first_log = log_of(work, "bert-train-p1", jobs["bert-train"][0])
    assert "account nn1234k, partition accel, GPUs on this node: 0,1" in first_log
    assert "NorLM/0.1.0-foss-2024a-CUDA-12.6.0" in first_log  # the stub of the EasyBuild module
    assert "global batch 8 (4 x 1 x 2)" in first_log  # two Horovod ranks through srun (PMIx)
    run = json.loads((work / "bert" / "phase1" / "run-bert-train.json").read_text())
    assert run["workers"] == 2


def test_usr1_checkpoints_and_the_follow_up_job_resumes(slurm, runs):
    work, jobs, signalled, _ = runs
    first, follow = jobs["bert-train"]
    assert signalled, "the first training job ended before it could be signalled"
    text = log_of(work, "bert-train-p1", first)
    stopped = re.search(r"stopped at step (\d+)/40 \(interrupted by SIGUSR1\)", text)
    assert stopped, text[-3000:]
    step = int(stopped.group(1))
    assert 2 <= step < 40
    assert (work / "bert" / "phase1" / f"model.ckpt-{step}.index").exists()
    assert slurm.job(first)["ExitCode"] == "143:0"  # bert-train after a signal (both ranks)
    assert "the follow-up job resumes from the newest checkpoint" in text
    follow_text = log_of(work, "bert-train-p1", follow)
    assert slurm.job(follow)["JobState"] == "COMPLETED", follow_text[-3000:]
    assert slurm.job(follow)["Dependency"] in ("(null)", f"afterany:{first}(unfulfilled)")
    assert f"resumed from {work / 'bert' / 'phase1' / f'model.ckpt-{step}'}" in follow_text
    assert re.search(rf"^step {step + 1}/40", follow_text, re.M) and "step 40/40" in follow_text
    assert (work / "bert" / "phase1" / "final.json").exists()


def test_puhti_scripts_under_sbatch_wait(slurm, runs):
    work, jobs, _, (returncode, job_id, stderr) = runs
    log = log_of(work, "bert-data-p2", job_id)
    assert returncode == 0, stderr + log[-3000:]
    assert "account project_2001234, partition small" in log
    assert slurm.job(job_id)["ExitCode"] == "0:0"
    assert json.loads((work / "bert" / "tfrecords" / "phase2" / "manifest.json").read_text())
    # a finished stage is skipped at the top of its script
    out = norlm_sbatch(slurm, "puhti", "corpus", work, "--submit")
    [corpus] = submitted(out, "corpus")
    wait_for(lambda: slurm.job(corpus)["JobState"] in DONE, 120, "the Puhti corpus job")
    assert "corpus is already complete" in log_of(work, "corpus", corpus)
    assert slurm.job(corpus)["ExitCode"] == "0:0"


def test_time_over_partition_limit_is_rejected_at_submission(slurm, tmp_path):
    out = norlm_sbatch(slurm, "puhti", "bert-train", tmp_path / "work", "hpc.bert_train.partition=gputest",
                       'hpc.bert_train.time="00:10:00"')
    script = Path(out.split(": ")[-1].strip())
    ok = slurm.run("sbatch", "--test-only", str(script), check=False)
    assert ok.returncode == 0 and "to start at" in ok.stderr
    over = slurm.run("sbatch", "--time=00:30:00", str(script), check=False)
    assert over.returncode != 0
    assert "Requested time limit is invalid" in over.stderr
    assert slurm.run("squeue", "-h", "-p", "gputest").stdout.strip() == ""
