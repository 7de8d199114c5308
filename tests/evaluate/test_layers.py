"""The hand-written TF pieces: AdamW update rule, LSTM parity with torch, masking and pooling."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from norlm.evaluate.layers import LSTM, BiLSTMClassifier, FeedForwardTagger
from norlm.evaluate.optim import AdamW


def test_adamw_matches_the_update_rule_and_skips_decay_on_bias():
    w = tf.Variable([[1.0, -2.0]], name="dense/kernel")
    b = tf.Variable([0.5], name="dense/bias")
    opt = AdamW([w, b], learning_rate=0.1, total_steps=10, weight_decay=0.01, decay_to_zero=False, epsilon=1e-6)
    gw, gb = np.array([[0.2, -0.4]], np.float32), np.array([1.0], np.float32)
    m_w, v_w, m_b, v_b = np.zeros((1, 2)), np.zeros((1, 2)), np.zeros(1), np.zeros(1)
    w_ref, b_ref = np.array([[1.0, -2.0]]), np.array([0.5])
    for t in (1, 2):
        opt.apply([tf.constant(gw), tf.constant(gb)])
        m_w, v_w = 0.9 * m_w + 0.1 * gw, 0.999 * v_w + 0.001 * gw ** 2
        m_b, v_b = 0.9 * m_b + 0.1 * gb, 0.999 * v_b + 0.001 * gb ** 2
        upd_w = (m_w / (1 - 0.9 ** t)) / (np.sqrt(v_w / (1 - 0.999 ** t)) + 1e-6) + 0.01 * w_ref
        upd_b = (m_b / (1 - 0.9 ** t)) / (np.sqrt(v_b / (1 - 0.999 ** t)) + 1e-6)
        w_ref, b_ref = w_ref - 0.1 * upd_w, b_ref - 0.1 * upd_b
    np.testing.assert_allclose(w.numpy(), w_ref, rtol=1e-5)
    np.testing.assert_allclose(b.numpy(), b_ref, rtol=1e-5)
    assert opt.decay_mask == [True, False]


def test_adamw_linear_schedule_warms_up_and_decays_to_zero():
    v = tf.Variable([0.0])
    opt = AdamW([v], learning_rate=1.0, total_steps=10, warmup_steps=2)
    lrs = []
    for _ in range(10):
        lrs.append(float(opt.current_lr()))
        opt.step.assign_add(1)
    assert lrs[0] == pytest.approx(0.5) and lrs[1] == pytest.approx(1.0)
    assert lrs[2] == pytest.approx(1.0) and lrs[9] == pytest.approx(1.0 / 8)
    assert float(opt.current_lr()) == 0.0


def test_lstm_matches_torch():
    import torch

    gen = tf.random.Generator.from_seed(3)
    lstm = LSTM(5, 4, gen)
    x = np.random.default_rng(0).normal(size=(2, 6, 5)).astype(np.float32)
    ours = lstm(tf.constant(x), tf.ones([2, 6], tf.int32)).numpy()
    ref = torch.nn.LSTM(5, 4, batch_first=True)
    kernel, bias = lstm.kernel.numpy(), lstm.bias.numpy()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.from_numpy(kernel[:5].T.copy()))
        ref.weight_hh_l0.copy_(torch.from_numpy(kernel[5:].T.copy()))
        ref.bias_ih_l0.copy_(torch.from_numpy(bias))
        ref.bias_hh_l0.zero_()
        expected = ref(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_bilstm_ignores_padding():
    gen = tf.random.Generator.from_seed(1)
    clf = BiLSTMClassifier(3, 4, 2, 0.0, gen)
    x = np.random.default_rng(1).normal(size=(1, 4, 3)).astype(np.float32)
    padded = np.concatenate([x, 100.0 * np.ones((1, 3, 3), np.float32)], axis=1)
    short = clf(tf.constant(x), tf.ones([1, 4], tf.int32)).numpy()
    long = clf(tf.constant(padded), tf.constant([[1, 1, 1, 1, 0, 0, 0]], tf.int32)).numpy()
    np.testing.assert_allclose(short, long, atol=1e-5)
    # a sentence whose words change does change the logits (the padding test is not vacuous)
    other = clf(tf.constant(x[:, ::-1].copy()), tf.ones([1, 4], tf.int32)).numpy()
    assert np.abs(other - short).max() > 1e-4


def test_feed_forward_tagger_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int32) + 2 * (x[:, 2] > 0).astype(np.int32)
    tagger = FeedForwardTagger(8, 16, 4, 0.1, tf.random.Generator.from_seed(0))
    opt = AdamW(tagger.trainable_variables, 0.01, 300, decay_to_zero=False)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, tagger(x, training=True)))
        opt.apply(tape.gradient(loss, tagger.trainable_variables))
        return loss

    for _ in range(300):
        step()
    acc = float(np.mean(np.argmax(tagger(x).numpy(), -1) == y))
    assert acc > 0.95
