"""NVLAMB / AdamW against a NumPy transcription of bert-recipe §2.5, and NVIDIA's global-norm clip."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from norlm.bert.train.lamb import Lamb, clip_by_global_norm, uses_weight_decay

NAMES = ["bert/encoder/layer_0/attention/self/query/kernel", "bert/encoder/layer_0/attention/self/query/bias",
         "bert/embeddings/LayerNorm/gamma", "cls/predictions/output_bias", "bert/embeddings/word_embeddings",
         "cls/seq_relationship/output_weights", "bert/encoder/layer_0/output/layer_norm_x"]
B1, B2, EPS, WD = 0.9, 0.999, 1e-6, 0.01


def numpy_step(kind, w, g, m, v, lr, t, decay):
    m = B1 * m + (1 - B1) * g
    v = B2 * v + (1 - B2) * g * g
    if kind == "lamb":
        u = (m / (1 - B1 ** t)) / (np.sqrt(v / (1 - B2 ** t)) + EPS)
    else:
        u = m / (np.sqrt(v) + EPS)
    if decay:
        u = u + WD * w
    if kind == "lamb":
        wn, un = np.linalg.norm(w), np.linalg.norm(u)
        r = wn / un if wn > 0 and un > 0 else 1.0
        u = r * u
    return w - lr * u, m, v


def run_against_numpy(kind):
    rng = np.random.default_rng(11)
    shapes = [(6, 5), (5,), (5,), (7,), (9, 5), (2, 5), (4,)]
    w0 = {n: rng.normal(size=s).astype(np.float32) for n, s in zip(NAMES, shapes)}
    w0["cls/predictions/output_bias"][:] = 0.0  # zero weight norm -> trust ratio 1
    tf_vars = {n: tf.Variable(a) for n, a in w0.items()}
    opt = Lamb(tf_vars, kind=kind, beta_1=B1, beta_2=B2, epsilon=EPS, weight_decay=WD)
    ref = {n: (a.astype(np.float64), np.zeros_like(a, np.float64), np.zeros_like(a, np.float64)) for n, a in w0.items()}
    for t, lr in ((1, 1e-2), (2, 5e-3), (3, 2e-3)):
        grads = {n: rng.normal(size=a.shape).astype(np.float32) for n, a in w0.items()}
        opt.apply({n: tf.constant(g) for n, g in grads.items()}, tf_vars, lr, t)
        for n in NAMES:
            w, m, v = ref[n]
            ref[n] = numpy_step(kind, w, grads[n].astype(np.float64), m, v, lr, t, uses_weight_decay(n))
            np.testing.assert_allclose(tf_vars[n].numpy(), ref[n][0], rtol=2e-6, atol=1e-7, err_msg=f"{n} t={t}")
            np.testing.assert_allclose(opt.m[n].numpy(), ref[n][1], rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(opt.v[n].numpy(), ref[n][2], rtol=1e-5, atol=1e-9)
    return w0, tf_vars


def test_weight_decay_exclusions():
    assert [uses_weight_decay(n) for n in NAMES] == [True, False, False, False, True, True, False]


def test_lamb_matches_numpy_including_first_step():
    w0, tf_vars = run_against_numpy("lamb")
    # first step with t = 1 is finite (the t = 0 hazard of the TF1 code would give NaN)
    assert all(np.isfinite(v.numpy()).all() for v in tf_vars.values())


def test_lamb_first_step_size_is_lr_times_weight_norm():
    # with t = 1, m^ = g and v^ = g^2, so without decay u = g/(|g|+eps) and |dw| = lr * |w| (trust ratio)
    w = tf.Variable(np.array([3.0, 4.0], np.float32))
    opt = Lamb({"x/bias": w}, weight_decay=WD)
    opt.apply({"x/bias": tf.constant([0.5, -2.0])}, {"x/bias": w}, 0.1, 1)
    step = np.array([3.0, 4.0]) - w.numpy()
    np.testing.assert_allclose(np.linalg.norm(step), 0.1 * 5.0, rtol=1e-5)
    np.testing.assert_allclose(np.sign(step), [1.0, -1.0])


def test_adamw_matches_numpy():
    run_against_numpy("adam")


def test_clip_by_global_norm_and_nonfinite_rule():
    g = [tf.constant([3.0, 0.0]), tf.constant([[4.0]])]
    clipped, norm = clip_by_global_norm(g, 1.0)
    assert abs(float(norm) - 5.0) < 1e-6
    np.testing.assert_allclose(clipped[0].numpy(), [0.6, 0.0], rtol=1e-6)
    small, _ = clip_by_global_norm([tf.constant([0.3, 0.4])], 1.0)
    np.testing.assert_allclose(small[0].numpy(), [0.3, 0.4], rtol=1e-6)  # below the clip: unchanged
    bad, _ = clip_by_global_norm([tf.constant([np.inf, 2.0])], 1.0)
    assert bad[0].numpy()[1] == 2.0  # non-finite: NVIDIA divides by 1.0 instead of the norm
