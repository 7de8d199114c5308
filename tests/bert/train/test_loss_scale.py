"""fp16 dynamic loss scaling: a forced overflow halves the scale and skips the update without counting it."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import synth
from norlm.bert.model import BertConfig
from norlm.bert.train.settings import BertTrainConfig, PhaseTrain
from norlm.bert.train.trainer import Trainer

CFG = BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                 max_position_embeddings=16)


def batches(n_steps: int):
    inst = synth.make_instances(4 * n_steps, 16, 3, 60, seed=5)
    for i in range(n_steps):
        chunk = inst[4 * i:4 * i + 4]
        yield {k: tf.constant(np.stack([r[k] for r in chunk])) for k in chunk[0]}


def snapshot(trainer):
    return {n: v.numpy().copy() for n, v in trainer.model.vars.items()}


def test_forced_overflow_skips_and_halves_then_grows():
    train_cfg = BertTrainConfig(init_loss_scale=2.0 ** 32, loss_scale_window=2)
    trainer = Trainer(CFG, train_cfg, PhaseTrain(4, 1, 100, 0, 1e-3), seed=1, precision="fp16")
    st = trainer.state
    it = batches(60)
    before = snapshot(trainer)
    first = trainer.step(it, 1)
    # 2**32 times a loss gradient overflows float16: nothing is applied, the counter stays, the scale halves
    assert first["applied"] is False
    assert int(st.global_step.numpy()) == 0 and float(st.loss_scale.numpy()) == 2.0 ** 31
    assert int(st.input_position.numpy()) == 1  # the batch was consumed all the same
    assert all(np.array_equal(before[n], v.numpy()) for n, v in trainer.model.vars.items())
    assert all(float(tf.reduce_sum(tf.abs(m))) == 0.0 for m in trainer.opt.m.values())
    skipped = 1
    while not trainer.step(it, 1)["applied"]:
        skipped += 1
        assert int(st.global_step.numpy()) == 0
    assert 10 < skipped < 40
    scale = float(st.loss_scale.numpy())
    assert scale == 2.0 ** (32 - skipped)  # halved once per skipped step
    assert int(st.global_step.numpy()) == 1 and int(st.good_steps.numpy()) == 1
    assert any(not np.array_equal(before[n], v.numpy()) for n, v in trainer.model.vars.items())
    # two finite steps in a row (window 2) double the scale and reset the good-step counter
    assert trainer.step(it, 1)["applied"] is True
    assert float(st.loss_scale.numpy()) == 2 * scale and int(st.good_steps.numpy()) == 0
    assert int(st.global_step.numpy()) == 2


def test_bf16_has_no_scaling_and_fp32_master_weights():
    trainer = Trainer(CFG, BertTrainConfig(), PhaseTrain(4, 1, 100, 0, 1e-3), seed=1, precision="bf16")
    out = trainer.step(batches(1), 1)
    assert out["applied"] is True and np.isfinite(out["total_loss"])
    assert float(trainer.state.loss_scale.numpy()) == 1.0 and int(trainer.state.global_step.numpy()) == 1
    assert all(v.dtype == tf.float32 for v in trainer.model.vars.values())
