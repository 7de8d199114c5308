"""Where elmo-train starts: scratch, its newest checkpoint (restored exactly), or nothing left to do."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import tensorflow as tf

from norlm.elmo import checkpoint as ck
from norlm.elmo.train_resume import choose_start


class FakeTrainer:
    """The trainer's checkpoint interface over two small variables and one carried state."""

    def __init__(self, value: float):
        self.w = tf.Variable(np.full((2, 3), value, np.float32))
        self.acc = tf.Variable(np.full((3,), value + 1, np.float32))
        self.train_vars = [self.w]
        self.checkpoint = ck.make_checkpoint({"lm/w": self.w, "lm/w/Adagrad": self.acc})
        self.state = np.full((4,), value, np.float32)

    def carried_states(self):
        return {"0_0_c": self.state.copy()}

    def load_carried_states(self, arrays):
        self.state = arrays["0_0_c"]


class FakeBatches:
    def __init__(self, position: int):
        self.position = position

    def state(self):
        return {"forward": {"pass": 0, "sent_pos": self.position}}

    def restore(self, state):
        self.position = state["forward"]["sent_pos"]


def _plan(out: Path, total_steps: int = 10):
    return SimpleNamespace(out=out, ckpt_dir=out / "ckpt", total_steps=total_steps)


def test_scratch_starts_at_step_0(tmp_path):
    plan = _plan(tmp_path)
    plan.ckpt_dir.mkdir()
    assert choose_start(FakeTrainer(0.0), FakeBatches(0), plan) == 0


def test_resume_restores_weights_slots_states_and_stream_position(tmp_path, capsys):
    plan = _plan(tmp_path)
    plan.ckpt_dir.mkdir()
    for step, value in ((4, 1.5), (8, 2.5)):
        ck.save_training(plan.ckpt_dir, step, 1, FakeTrainer(value), FakeBatches(step * 10))
    assert sorted(p.name for p in plan.ckpt_dir.iterdir()) == [  # keep=1: step 4 deleted after step 8
        "ckpt-8.data-00000-of-00001", "ckpt-8.index", "ckpt-8.rank0.npz", "latest.json"]
    trainer, batches = FakeTrainer(0.0), FakeBatches(0)
    assert choose_start(trainer, batches, plan) == 8
    assert f"elmo-train: resuming from step 8 ({plan.ckpt_dir})" in capsys.readouterr().out
    np.testing.assert_array_equal(trainer.w.numpy(), np.full((2, 3), 2.5, np.float32))
    np.testing.assert_array_equal(trainer.acc.numpy(), np.full((3,), 3.5, np.float32))
    np.testing.assert_array_equal(trainer.state, np.full((4,), 2.5, np.float32))
    assert batches.position == 80


def test_a_finished_run_is_not_started_again(tmp_path, capsys):
    plan = _plan(tmp_path, total_steps=8)
    plan.ckpt_dir.mkdir()
    ck.save_training(plan.ckpt_dir, 8, 2, FakeTrainer(1.0), FakeBatches(3))
    assert choose_start(FakeTrainer(0.0), FakeBatches(0), plan) == 8  # no final.json: the run resumes
    (tmp_path / "final.json").write_text("{}")
    trainer = FakeTrainer(0.0)
    assert choose_start(trainer, FakeBatches(0), plan) is None
    assert "elmo-train: already complete at step 8" in capsys.readouterr().out
    assert float(trainer.w.numpy()[0, 0]) == 0.0  # nothing restored
