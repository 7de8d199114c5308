"""The faster training step computes what the plain one did: sampled softmax as TF's, per-word CNN as per-token."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from norlm.elmo.model import ElmoModel
from norlm.elmo.sampler import log_uniform_unique, sampled_values
from norlm.elmo.softmax import sampled_softmax_xent
from tests.elmo.test_model import OPTIONS


def test_sampled_softmax_equals_tensorflow_with_accidental_hits():
    tf.random.set_seed(0)  # other tests enable op determinism, which needs a global seed for random ops
    v, p, n, s = 300, 8, 64, 40
    rng = np.random.default_rng(3)
    w = tf.Variable(rng.normal(0, 1, (v, p)).astype(np.float32))
    b = tf.Variable(rng.normal(0, 1, v).astype(np.float32))
    x = tf.constant(rng.normal(0, 1, (n, p)).astype(np.float32))
    ids, tries = log_uniform_unique(np.random.default_rng(0), s, v)
    labels = rng.integers(0, 20, n)  # frequent ids: many labels are also among the negatives
    assert np.isin(labels, ids).sum() > 10
    labels_2d = tf.constant(labels[:, None], tf.int64)
    sampled, true_exp, sampled_exp = sampled_values(tf.constant(ids), tf.constant(tries), labels_2d, v)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ref = tf.nn.sampled_softmax_loss(w, b, labels_2d, x, s, v, sampled_values=(sampled, true_exp, sampled_exp))
        ours = sampled_softmax_xent(w, b, tf.constant(labels), x, sampled, true_exp, sampled_exp)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
    for a, r in zip(tape.gradient(ours, [w, b, x]), tape.gradient(ref, [w, b, x])):
        np.testing.assert_allclose(tf.convert_to_tensor(a).numpy(), tf.convert_to_tensor(r).numpy(), atol=1e-6)
    # a hit row with the hit removed differs from one without removal: the masking is really applied
    no_removal = tf.nn.sampled_softmax_loss(w, b, labels_2d, x, s, v, sampled_values=(sampled, true_exp, sampled_exp),
                                            remove_accidental_hits=False)
    assert np.abs(no_removal.numpy() - ours.numpy()).max() > 1e-2


def test_per_word_cnn_equals_per_token_cnn():
    model = ElmoModel(OPTIONS, seed=5)
    rng = np.random.default_rng(1)
    words = rng.integers(0, 261, (6, 50))
    chars = tf.constant(words[rng.integers(0, 6, (4, 7))], tf.int32)  # (4, 7, 50), words repeat
    cnn = [v for k, v in model.vars.items() if "CNN" in k or "char_embed" in k]
    results = []
    for unique in (False, True):
        with tf.GradientTape() as tape:
            emb = model.token_embedding(chars, unique=unique)
            loss = tf.reduce_sum(emb * tf.range(emb.shape[-1], dtype=tf.float32))
        results.append([emb.numpy()] + [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, cnn)])
    np.testing.assert_array_equal(results[1][0], results[0][0])  # forward: bit-identical
    for got, ref in zip(results[1][1:], results[0][1:]):  # gradients: summation order only
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_lstmp_window_gradient_equals_autodiff_of_the_cell():
    """The hand-written backward through time (clips firing) against autodiff of the while-loop cell."""
    options = {**OPTIONS, "lstm": {**OPTIONS["lstm"], "cell_clip": 1.0, "proj_clip": 0.5}}
    model = ElmoModel(options, seed=3)
    rng = np.random.default_rng(4)
    kernel, bias, proj = model.cell_vars(1, 1)
    kernel.assign(rng.normal(0, 0.9, kernel.shape).astype(np.float32))  # large: both clips fire
    bias.assign(rng.normal(0, 0.5, bias.shape).astype(np.float32))
    proj.assign(rng.normal(0, 0.9, proj.shape).astype(np.float32))
    x = tf.constant(rng.normal(0, 1.5, (3, 7, 5)).astype(np.float32))
    c0 = tf.constant(rng.normal(0, 0.5, (3, 12)).astype(np.float32))
    m0 = tf.constant(rng.normal(0, 0.5, (3, 5)).astype(np.float32))
    out_w = tf.constant(rng.normal(0, 1, (3, 7, 5)).astype(np.float32))
    results = []
    for mask in (None, tf.ones([3, 7], tf.bool)):  # ours (unrolled) / autodiff of the tf.while_loop cell
        with tf.GradientTape() as tape:
            tape.watch([x, c0, m0])
            out, c, m = model.lstm_layer(1, 1, x, c0, m0, mask=mask)
            loss = tf.reduce_sum(out * out_w) + tf.reduce_sum(c * c[:, ::-1]) + 3.0 * tf.reduce_sum(m)
        results.append([out, c, m] + tape.gradient(loss, [x, c0, m0, kernel, bias, proj]))
    clipped_c = np.abs(results[1][1].numpy()) >= 1.0 - 1e-6
    assert clipped_c.any() and np.abs(results[1][0].numpy()).max() >= 0.5 - 1e-6  # the clips were active
    names = ["out", "c", "m", "d_x", "d_c0", "d_m0", "d_kernel", "d_bias", "d_proj"]
    for name, got, ref in zip(names, *results):
        assert np.abs(ref.numpy()).max() > 1e-3, name  # every gradient is really exercised
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)
