"""Exact resume: a run killed with SIGKILL and restarted ends bit-identical to an uninterrupted run (CPU, fp32)."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from .synth import SMOKE
from tests.conftest import REPO, norlm_env
from norlm.bert.train.checkpoint import read_state
from norlm.dllogger import curve_points, read_dllog, training_points
from norlm.plots import load_points

ARGS = ["bert-train", *SMOKE, "--phase", "1", "bert.phase1.train_steps=24", "bert.phase1.train_batch_size=8",
        "bert.save_checkpoints_steps=4", "bert.keep_checkpoints=2", "bert.display_loss_steps=4"]


def start(work):
    return subprocess.Popen([sys.executable, "-m", "norlm", *ARGS], cwd=REPO, env=norlm_env(work),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def all_tensors(prefix: str) -> dict[str, np.ndarray]:
    reader = tf.train.load_checkpoint(prefix)
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map() if "save_counter" not in k}


@pytest.mark.slow
def test_kill_9_then_resume_is_bit_identical(small_work, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(small_work, other)

    # run 1: uninterrupted
    full = start(small_work)
    assert full.wait(timeout=300) == 0, full.stdout.read()

    # run 2: SIGKILL as soon as the first checkpoint exists, then the same command again
    proc = start(other)
    first = other / "bert/phase1/model.ckpt-4.index"
    deadline = time.time() + 240
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (other / "bert/phase1/final.json").exists()
    killed_at = read_state(other / "bert/phase1")["global_step"]
    assert 4 <= killed_at < 24
    resumed = start(other)
    out = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, out
    assert "resumed from" in out

    a = all_tensors(str(small_work / "bert/phase1/model.ckpt-24"))
    b = all_tensors(str(other / "bert/phase1/model.ckpt-24"))
    assert a.keys() == b.keys()
    assert any(k.startswith("optimizer/m/") for k in a) and any(k.startswith("state/input_position") for k in a)
    differing = [k for k in a if not np.array_equal(a[k], b[k])]
    assert differing == []
    assert read_state(small_work / "bert/phase1")["global_step"] == 24
    # keep the last 2 checkpoints only
    assert sorted(p.name for p in (small_work / "bert/phase1").glob("*.index")) == [
        "model.ckpt-20.index", "model.ckpt-24.index"]
    # the resumed log continues the interrupted one (NVIDIA step = global step + 1) after a restart
    # marker; read as one curve, a step the killed run logged after its checkpoint appears once
    records = read_dllog(other / "bert/phase1/dllog.json")
    assert [r.get("metric") for r in records].count("restart") == 1
    points, restarts = curve_points(records)
    steps = [p["step"] for p in points]
    assert steps[-1] == 24 and steps == sorted(set(steps)) and len(restarts) == 1
    assert restarts[0]["step"] > killed_at >= restarts[0]["step"] - 4
    drawn = load_points([other / "bert/phase1/dllog.json"])  # what plot-log and the report draw
    assert [p["step"] for p in drawn] == steps and [p["step"] for p in drawn if p["restart"]] == [restarts[0]["step"]]
    assert len(training_points(records)) >= len(steps)


def test_sigterm_saves_a_checkpoint_and_stops(small_work):
    """What Slurm sends before a time limit: save at the current step, exit 143, no final.json."""
    proc = subprocess.Popen([sys.executable, "-m", "norlm", *ARGS, "bert.phase1.train_steps=100000"], cwd=REPO,
                            env=norlm_env(small_work), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = small_work / "bert/phase1/model.ckpt-4.index"
    deadline = time.time() + 240
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 143, out
    step = read_state(small_work / "bert/phase1")["global_step"]
    assert step >= 4
    assert f"stopped at step {step}/100000 (interrupted by SIGTERM)" in out
    assert (small_work / f"bert/phase1/model.ckpt-{step}.index").exists()
    assert not (small_work / "bert/phase1/final.json").exists()
