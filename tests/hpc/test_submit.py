"""`--stage all --submit`: the dependency wiring, checked with a stand-in sbatch that records calls."""
from __future__ import annotations

import json
import os
import stat

from tests.conftest import run_norlm

FAKE_SBATCH = """#!/bin/bash
# records its arguments (and NORLM_CHAIN_LAST from --export) and prints a new job id
n=$(( $(wc -l < "$FAKE_SBATCH_LOG" 2>/dev/null || echo 0) + 100 ))
printf '%s\\t%s\\n' "$n" "$*" >> "$FAKE_SBATCH_LOG"
echo "$n"
"""


def test_submit_all_wires_afterok_array_and_chain(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "sbatch"
    fake.write_text(FAKE_SBATCH)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "sbatch.log"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_SBATCH_LOG=str(log),
               NORLM_WORK=str(tmp_path / "work"))
    proc = run_norlm("sbatch", "--config", "configs/smoke.toml", "--cluster", "local", "--account", "acct",
                     "--stage", "all", "--submit", "hpc.bert_train.chain=2", "hpc.bert_data.array=3",
                     env=env)
    calls = {}
    for line in log.read_text().splitlines():
        job_id, args = line.split("\t")
        calls[job_id] = args.split()
    script = {i: a[-1].rsplit("/", 1)[1] for i, a in calls.items()}
    deps = {i: next((x.split("=", 1)[1] for x in a if x.startswith("--dependency=")), "") for i, a in calls.items()}
    exports = {i: next((x for x in a if x.startswith("--export=")), "") for i, a in calls.items()}
    order = [script[i] for i in sorted(calls)]
    assert order == ["corpus.sbatch", "vocab.sbatch",
                     "bert-data-p1.sbatch", "bert-data-p1.sbatch", "bert-data-p2.sbatch", "bert-data-p2.sbatch",
                     "bert-train-p1.sbatch", "bert-train-p1.sbatch", "bert-train-p1.sbatch",
                     "bert-train-p2.sbatch", "bert-train-p2.sbatch", "bert-train-p2.sbatch",
                     "bert-export.sbatch", "elmo-vocab.sbatch", "elmo-train.sbatch", "elmo-export.sbatch",
                     "evaluate.sbatch"]
    assert deps["100"] == "" and deps["101"] == "afterok:100"
    # bert-data p1: the array, then its finishing job (array size 1) after it
    assert deps["102"] == "afterok:101" and deps["103"] == "afterok:102" and "--array=0-0" in calls["103"]
    # bert-train p1 waits for the finishing bert-data job; two follow-ups chained with afterany
    assert deps["106"] == "afterok:103" and deps["107"] == "afterany:106" and deps["108"] == "afterany:107"
    assert [exports[i] for i in ("106", "107", "108")] == [
        "--export=ALL,NORLM_CHAIN_LAST=0", "--export=ALL,NORLM_CHAIN_LAST=0", "--export=ALL,NORLM_CHAIN_LAST=1"]
    # phase 2 needs its data and the last job of phase 1
    assert deps["109"] == "afterok:105:108"
    assert deps["112"] == "afterok:111"  # bert-export after the last phase-2 link
    assert deps["113"] == "afterok:100" and deps["114"] == "afterok:113" and deps["115"] == "afterok:114"
    assert deps["116"] == "afterok:112:115"  # evaluate after both exports
    record = json.loads((tmp_path / "work" / "slurm" / "jobs.json").read_text())
    assert record["bert-train-p1"]["jobs"] == ["106", "107", "108"]
    assert "submitted bert-train-p1: job 106 -> 107 -> 108" in proc.stdout
    assert "--array=0-2" in (tmp_path / "work" / "slurm" / "bert-data-p1.sbatch").read_text()


def test_submit_reports_sbatch_refusal(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "sbatch"
    fake.write_text("#!/bin/bash\necho 'sbatch: error: Batch job submission failed: Invalid account' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", NORLM_WORK=str(tmp_path / "work"))
    proc = run_norlm("sbatch", "--config", "configs/smoke.toml", "--cluster", "local", "--account", "acct",
                     "--stage", "vocab", "--submit", env=env, check=False)
    assert proc.returncode == 1
    assert "Invalid account" in proc.stderr and "vocab.sbatch" in proc.stderr
