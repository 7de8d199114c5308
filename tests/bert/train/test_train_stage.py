"""`norlm bert-train` end to end: the demo model learns, and phase 2 continues or restarts phase 1."""
from __future__ import annotations

import json

import numpy as np
import pytest

from . import synth
from norlm.bert.train.checkpoint import read_state
from norlm.bert.train.schedule import learning_rate_value
from norlm.cli import main as cli_main
from norlm.config import load_config
from norlm.dllogger import read_dllog, training_points


@pytest.mark.slow
def test_demo_model_learns_mlm_and_nsp(tmp_path, monkeypatch):
    """The demo config's model, optimiser and schedule on generated data: MLM loss -30 %, NSP above chance."""
    work = tmp_path / "work"
    (work / "vocab").mkdir(parents=True)
    synth.write_vocab(work / "vocab/vocab.txt", 1000)
    synth.write_tfrecords(work / "bert/tfrecords/phase1", 4096, 64, 10, 1000, seed=3, files=2)
    synth.write_tfrecords(tmp_path / "heldout", 256, 64, 10, 1000, seed=4, files=1)
    monkeypatch.setenv("NORLM_WORK", str(work))
    demo = load_config("demo").bert.phase1
    stop = demo.train_steps // 2  # half of the demo's phase-1 budget, on the demo's own schedule
    code = cli_main(["bert-train", "--config", "demo", "--phase", "1", "bert_data.phase1.max_seq_length=64",
                     "bert_data.phase1.max_predictions_per_seq=10", "bert.display_loss_steps=5",
                     "bert.save_checkpoints_steps=1000", f"--stop-at={stop}"])
    assert code == 0
    points = training_points(read_dllog(work / "bert/phase1/dllog.json"))
    mlm = [p["data"]["mlm_loss"] for p in points]
    assert points[-1]["step"] == stop and len(mlm) >= 10
    start = float(np.mean(mlm[:2]))
    end = float(np.mean(mlm[-3:]))
    assert start > 6.0  # about ln(1000) at initialisation
    assert end <= 0.7 * start, (start, end)
    # NSP accuracy on held-out data: restart the run with --eval on the same checkpoint dir (it resumes at stop)
    code = cli_main(["bert-train", "--config", "demo", "--phase", "1", "bert_data.phase1.max_seq_length=64",
                     "bert_data.phase1.max_predictions_per_seq=10", f"--stop-at={stop}", "--eval",
                     str(tmp_path / "heldout")])
    assert code == 0
    ev = json.loads((work / "bert/phase1/eval_results.json").read_text())
    assert ev["sequences"] == 256
    assert ev["next_sentence_accuracy"] > 0.6, ev
    assert ev["masked_lm_accuracy"] > 0.05, ev


def test_phase2_continues_or_restarts(small_work, monkeypatch, capsys):
    monkeypatch.setenv("NORLM_WORK", str(small_work))
    base = ["bert-train", *synth.SMOKE]
    assert cli_main([*base, "--phase", "1"]) == 0
    p1 = json.loads((small_work / "bert/phase1/final.json").read_text())
    assert p1["global_step"] == 10 and p1["state"]["input_position"] == 10
    assert (small_work / "bert/phase1/tensorboard").is_dir()
    assert json.loads((small_work / "bert/phase1/bert_config.json").read_text())["vocab_size"] == synth.VOCAB
    # a rerun of a finished phase is a no-op
    before = (small_work / "bert/phase1/final.json").read_bytes()
    assert cli_main([*base, "--phase", "1"]) == 0
    assert (small_work / "bert/phase1/final.json").read_bytes() == before
    assert "already complete at step 10" in capsys.readouterr().out

    # NorBERT: same step counter and optimiser state, new T = 14, LR jumps to (1 - 10/14)^0.5 x peak
    assert cli_main([*base, "--phase", "2", "bert.display_loss_steps=1"]) == 0
    p2 = json.loads((small_work / "bert/phase2/final.json").read_text())
    assert p2["global_step"] == 14 and p2["updates_this_run"] == 4 and p2["max_seq_length"] == 64
    first = training_points(read_dllog(small_work / "bert/phase2/dllog.json"))[0]
    assert first["step"] == 12  # NVIDIA logs global step + 1: after update 11
    assert float(first["data"]["learning_rate"]) == pytest.approx(learning_rate_value(10, 1e-2, 14, 2), rel=1e-6)

    # NVIDIA: fresh schedule from the phase-1 weights (step 0, warm-up again)
    out = small_work / "fresh"
    assert cli_main([*base, "--phase", "2", "bert.phase2_mode=fresh", "--output-dir", str(out)]) == 0
    state = read_state(out)
    assert state["global_step"] == 14 and state["phase"] == 2
    assert json.loads((out / "final.json").read_text())["updates_this_run"] == 14
    assert "fresh schedule" in capsys.readouterr().out
