"""`norlm plan --from-log` on a real run: the committed demo phase-1 log (logs/demo/) predicts that
phase's own measured wall time within 10 %, and the phase comes from the log's run record, not its path."""
from __future__ import annotations

import json
import shutil

import pytest

from norlm.dllogger import read_dllog

from tests.conftest import REPO, run_norlm

DEMO = str(REPO / "configs" / "demo.toml")
LOG = REPO / "logs" / "demo" / "bert_phase1_dllog.json"


def _plan(tmp_path, log, *extra):
    return run_norlm("plan", "--config", DEMO, "--cluster", "saga", "--from-log", str(log), *extra, work=tmp_path)


def test_demo_log_predicts_its_own_wall_time(tmp_path):
    records = read_dllog(LOG)
    run = [r["metadata"] for r in records if r.get("metric") == "run"][-1]
    assert (run["phase"], run["max_seq_length"], run["train_steps"], run["workers"]) == (1, 128, 300, 1)
    steady = [r["data"]["throughput_train"] for r in records if r.get("step") == []][-1]
    data = json.loads(_plan(tmp_path, LOG, "--json").stdout)
    check = data["from_log"]
    assert (check["phase"], check["workers"]) == (1, 1)
    intervals = [r for r in records if r.get("type") == "LOG" and isinstance(r.get("step"), int)]
    measured = float(intervals[-1]["timestamp"]) - float(intervals[0]["timestamp"])  # steps 10 -> 300
    assert check["measured_s"] == pytest.approx(measured)
    assert check["predicted_s"] == pytest.approx(290 * 32 / steady, rel=1e-9)
    assert check["predicted_s"] == pytest.approx(measured, rel=0.10)
    # the plan's phase-1 row: the demo's per-rank batch on Saga's 2 GPUs (global 64) at the log's per-worker rate
    p1 = [s for s in data["stages"] if s["stage"] == "bert-train-p1"][0]
    assert p1["gpus"] == 2 and p1["hours"] * 3600 == pytest.approx(300 * 64 / (2 * steady), rel=1e-9)
    assert p1["basis"].startswith("measured here: ") and str(LOG) in p1["basis"]
    p2 = [s for s in data["stages"] if s["stage"] == "bert-train-p2"][0]
    assert p2["basis"].startswith("measured elsewhere: NorBERT-1 logs")  # the labelled figure: not the log's phase
    out = _plan(tmp_path, LOG).stdout
    assert "--from-log check: phase 1, 290 updates of 32 on 1 worker(s)" in out and "start-up" in out


def test_phase_from_metadata_not_path(tmp_path):
    renamed = tmp_path / "phase2" / "dllog.json"
    renamed.parent.mkdir()
    shutil.copy(LOG, renamed)
    assert json.loads(_plan(tmp_path, renamed, "--json").stdout)["from_log"]["phase"] == 1


def test_log_without_run_record(tmp_path):
    bare = tmp_path / "dllog.json"
    bare.write_text("".join(line for line in LOG.read_text(encoding="utf-8").splitlines(keepends=True)
                            if '"metric": "run"' not in line), encoding="utf-8")
    proc = run_norlm("plan", "--config", DEMO, "--cluster", "saga", "--from-log", str(bare), work=tmp_path,
                     check=False)
    assert proc.returncode == 2 and "no run metadata record" in proc.stderr and "--log-phase" in proc.stderr
    data = json.loads(_plan(tmp_path, bare, "--log-phase", "1", "--log-gpus", "1", "--json").stdout)
    assert data["from_log"]["phase"] == 1


def test_bert_train_writes_the_run_record(tmp_path):
    """The writer's side of the contract: every (re)start of bert-train puts its run record in dllog.json."""
    from norlm.bert.train.progress import Progress
    from norlm.config import load_config

    bcfg = load_config(DEMO).bert
    info = {"stage": "bert-train", "phase": 2, "global_batch": 64, "workers": 2, "start_step": 300}
    for start in (300, 320):  # a resumed run appends a second record; the plan reads the last
        progress = Progress(tmp_path, bcfg, 64, 340, 340, start, "fp32", True, dict(info, start_step=start))
        progress.close()
    runs = [r["metadata"] for r in read_dllog(tmp_path / "dllog.json") if r.get("metric") == "run"]
    assert [r["start_step"] for r in runs] == [300, 320] and runs[-1]["phase"] == 2
