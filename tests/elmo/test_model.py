"""The TF1 LSTMP cell, the log-uniform sampler's expected counts and Adagrad, against independent references."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from norlm.elmo.adagrad import Adagrad
from norlm.elmo.model import ElmoModel
from norlm.elmo.sampler import expected_count, log_uniform_unique

OPTIONS = {"char_cnn": {"filters": [[1, 4], [2, 8]], "embedding": {"dim": 3}, "activation": "relu",
                        "n_highway": 1, "max_characters_per_token": 50, "n_characters": 261},
           "lstm": {"dim": 12, "projection_dim": 5, "n_layers": 2, "cell_clip": 3, "proj_clip": 3,
                    "use_skip_connections": True}, "dropout": 0.0}


def _sig(x):
    return 1 / (1 + np.exp(-x))


def numpy_lstmp(x, kernel, bias, proj, cell_clip=3.0, proj_clip=3.0):
    """Reference TF1 LSTMCell(num_proj, clips): gates i, j, f, o; forget bias +1 at run time."""
    b, t, _ = x.shape
    h = kernel.shape[1] // 4
    c, m = np.zeros((b, h)), np.zeros((b, proj.shape[1]))
    outs = []
    for s in range(t):
        z = np.concatenate([x[:, s], m], axis=1) @ kernel + bias
        i, j, f, o = z[:, :h], z[:, h:2 * h], z[:, 2 * h:3 * h], z[:, 3 * h:]
        c = np.clip(_sig(f + 1.0) * c + _sig(i) * np.tanh(j), -cell_clip, cell_clip)
        m = np.clip((_sig(o) * np.tanh(c)) @ proj, -proj_clip, proj_clip)
        outs.append(m)
    return np.stack(outs, 1), c, m


def test_lstmp_layer_matches_reference_with_clipping():
    options = {**OPTIONS, "lstm": {**OPTIONS["lstm"], "cell_clip": 1.0, "proj_clip": 0.5}}
    model = ElmoModel(options, seed=1)
    rng = np.random.default_rng(0)
    kernel, bias, proj = model.cell_vars(0, 1)
    kernel.assign(rng.normal(0, 0.9, kernel.shape).astype(np.float32))   # large: clipping fires
    bias.assign(rng.normal(0, 0.5, bias.shape).astype(np.float32))
    proj.assign(rng.normal(0, 0.9, proj.shape).astype(np.float32))
    x = rng.normal(0, 1.5, (3, 7, 5)).astype(np.float32)
    ref, ref_c, ref_m = numpy_lstmp(x.astype(np.float64), kernel.numpy(), bias.numpy(), proj.numpy(), 1.0, 0.5)
    unclipped = numpy_lstmp(x.astype(np.float64), kernel.numpy(), bias.numpy(), proj.numpy(), 1e9, 1e9)[0]
    assert np.abs(unclipped - ref).max() > 0.1  # the clips were active
    zeros = model.zero_states(3)[1]
    for mask in (None, tf.ones([3, 7], tf.bool)):  # unrolled (training) and while-loop (inference) paths
        out, c, m = model.lstm_layer(0, 1, tf.constant(x), *zeros, mask=mask)
        np.testing.assert_allclose(out.numpy(), ref, atol=2e-5)
        np.testing.assert_allclose(c.numpy(), ref_c, atol=2e-5)


def test_state_is_carried_and_residual_uses_layer_input():
    model = ElmoModel(OPTIONS, seed=2)
    x = tf.random.stateless_normal([2, 6, 5], seed=[1, 2])
    outs, states = model.stack(0, x, model.zero_states(2))
    first, s1 = model.stack(0, x[:, :3], model.zero_states(2))
    second, _ = model.stack(0, x[:, 3:], s1)
    np.testing.assert_allclose(tf.concat([first[-1], second[-1]], 1).numpy(), outs[-1].numpy(), atol=1e-6)
    plain, _, _ = model.lstm_layer(0, 1, outs[0], *model.zero_states(2)[1])
    np.testing.assert_allclose(outs[1].numpy(), (plain + outs[0]).numpy(), atol=1e-6)


def test_sampler_expected_counts_equal_tensorflow():
    v, s = 1000, 100
    sampled, true_exp, sampled_exp = tf.random.log_uniform_candidate_sampler(
        tf.constant([[0], [7], [999]], tf.int64), 1, s, True, v, seed=5)
    tries = next(n for n in range(s, 20000)
                 if np.allclose(expected_count(sampled, s, tf.constant(n), v).numpy(), sampled_exp.numpy(), rtol=1e-5))
    ours = expected_count(tf.constant([[0], [7], [999]], tf.int64), s, tf.constant(tries), v).numpy()
    np.testing.assert_allclose(ours, true_exp.numpy(), rtol=1e-5)
    ids, n_tries = log_uniform_unique(np.random.default_rng(0), s, v)
    assert len(set(ids.tolist())) == s and n_tries >= s and ids.max() < v
    draws = np.concatenate([log_uniform_unique(np.random.default_rng(k), 1, v)[0] for k in range(4000)])
    assert abs(np.mean(draws == 0) - np.log(2) / np.log(v + 1)) < 0.02  # P(0) = log 2 / log(V+1)


def test_adagrad_is_tf1_formula():
    v = tf.Variable([1.0, -2.0])
    opt = Adagrad(["w"], [v], learning_rate=0.2, initial_accumulator=1.0)
    g = tf.constant([0.5, 3.0])
    opt.apply([g], [v])
    opt.apply([g], [v])
    acc1, acc2 = 1 + g.numpy() ** 2, 1 + 2 * g.numpy() ** 2
    expect = np.array([1.0, -2.0]) - 0.2 * g.numpy() / np.sqrt(acc1) - 0.2 * g.numpy() / np.sqrt(acc2)
    np.testing.assert_allclose(v.numpy(), expect, rtol=1e-6)
    np.testing.assert_allclose(opt.slots["w/Adagrad"].numpy(), acc2, rtol=1e-6)
