"""elmo-train: held-out perplexity falls, DLLogger log, and exact resume after kill -9."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

from tests.conftest import REPO, norlm_env, run_norlm


def _dllog(path):
    out = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line[5:])
        if rec.get("type") == "LOG" and rec["step"] != []:
            out[rec["step"]] = rec["data"]  # a resumed run re-logs steps after its checkpoint: keep the last
    return out


def test_training_lowers_heldout_perplexity(smoke_run):
    final = json.loads((smoke_run / "elmo" / "train" / "final.json").read_text())
    assert final["step"] == 40 and final["heldout_sentences"] == 50
    assert final["heldout_perplexity"] < 0.3 * final["heldout_perplexity_start"]
    log = _dllog(smoke_run / "elmo" / "train" / "dllog.json")
    assert sorted(log) == list(range(4, 41, 4))
    assert log[40]["train_perplexity"] < log[4]["train_perplexity"] and log[40]["throughput_train"] > 0


def test_kill9_resume_is_exact(smoke_run, elmo_corpus, tmp_path):
    (tmp_path / "corpus").symlink_to(elmo_corpus)
    run_norlm("elmo-vocab", "--config", "configs/smoke.toml", work=tmp_path)
    ckpt = tmp_path / "elmo" / "train" / "ckpt"
    with open(tmp_path / "killed.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "norlm", "elmo-train", "--config", "configs/smoke.toml",
                                 "--no-progress"], cwd=REPO, env=norlm_env(tmp_path), stdout=log, stderr=log)
        deadline = time.time() + 240
        while not (ckpt / "latest.json").exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.005)
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.wait()
    assert proc.returncode == -9, "the training run ended before it could be killed"
    assert not (tmp_path / "elmo" / "train" / "final.json").exists()
    resumed_from = json.loads((ckpt / "latest.json").read_text())["step"]
    assert 8 <= resumed_from < 40
    out = run_norlm("elmo-train", "--config", "configs/smoke.toml", "--no-progress", work=tmp_path)
    assert f"resuming from step {resumed_from}" in out.stdout
    ref = tf.train.load_checkpoint(str(smoke_run / "elmo" / "train" / "ckpt" / "ckpt-40"))
    got = tf.train.load_checkpoint(str(ckpt / "ckpt-40"))
    keys = [k for k in ref.get_variable_to_shape_map() if k.endswith("VARIABLE_VALUE")]
    assert any("Adagrad" in k for k in keys) and any("softmax" in k for k in keys)
    for key in keys:  # weights, Adagrad accumulators, global step: bit-identical
        np.testing.assert_array_equal(got.get_tensor(key), ref.get_tensor(key), err_msg=key)
    with np.load(smoke_run / "elmo" / "train" / "ckpt" / "ckpt-40.rank0.npz") as a, \
            np.load(ckpt / "ckpt-40.rank0.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:  # carried LSTM states and stream positions
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    ref_log = _dllog(smoke_run / "elmo" / "train" / "dllog.json")
    got_log = _dllog(tmp_path / "elmo" / "train" / "dllog.json")
    assert [ref_log[s]["loss"] for s in sorted(ref_log)] == [got_log[s]["loss"] for s in sorted(ref_log)]


def test_sigusr1_checkpoints_and_exits_143(elmo_corpus, tmp_path):
    """What Slurm's --signal=USR1@<s> does before a time limit: checkpoint at once, exit 143."""
    (tmp_path / "corpus").symlink_to(elmo_corpus)
    run_norlm("elmo-vocab", "--config", "configs/smoke.toml", work=tmp_path)
    ckpt = tmp_path / "elmo" / "train" / "ckpt"
    log_path = tmp_path / "elmo" / "train" / "dllog.json"
    proc = subprocess.Popen([sys.executable, "-m", "norlm", "elmo-train", "--config", "configs/smoke.toml",
                             "--no-progress", "elmo.save_every=1000", "elmo.log_every=1"], cwd=REPO,
                            env=norlm_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 240
    while proc.poll() is None and time.time() < deadline:  # wait until a few steps are logged
        if log_path.exists() and log_path.read_text().count('"type": "LOG"') >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGUSR1)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 143, out[-2000:]
    assert "interrupted by SIGUSR1" in out
    step = json.loads((ckpt / "latest.json").read_text())["step"]
    assert 3 <= step < 40  # saved at the interrupted step, not at a save_every multiple
    assert not (tmp_path / "elmo" / "train" / "final.json").exists()
