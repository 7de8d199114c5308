"""The graph parser: fused LSTM = step-by-step LSTM, padding invariance, the dropouts, learning, determinism."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from norlm.evaluate.graph.features import DROP, GraphExample, build_vocabs, collate, featurise
from norlm.evaluate.graph.lstm import BiLSTMStack, LSTMCell, fused_lstm, locked_dropout, scan_lstm
from norlm.evaluate.graph.model import GraphParser, replace_ids
from norlm.evaluate.graph.settings import GraphProtocol
from norlm.evaluate.graph.train import make_model, train_parser

SMALL = GraphProtocol(word_dim=8, lemma_dim=8, pos_dim=4, char_dim=6, char_hidden=8, lm_dim=6, lstm_layers=2,
                      lstm_hidden=12, scorer_dim=10, batch_size=4, epochs=3)


def test_fused_lstm_equals_scan_lstm_values_and_gradients():
    gen = tf.random.Generator.from_seed(1)
    x = gen.normal((5, 3, 4))
    cell = LSTMCell(4, 6, gen)
    with tf.GradientTape(persistent=True) as tape:
        a = fused_lstm(x, cell.kernel, cell.bias, 6)
        b = scan_lstm(x, cell.kernel, cell.bias, 6)
        la, lb = tf.reduce_sum(a * a), tf.reduce_sum(b * b)
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    for ga, gb in zip(tape.gradient(la, [cell.kernel, cell.bias]), tape.gradient(lb, [cell.kernel, cell.bias])):
        np.testing.assert_allclose(ga.numpy(), gb.numpy(), atol=1e-4)


def test_bilstm_output_of_a_sentence_does_not_depend_on_padding():
    gen = tf.random.Generator.from_seed(2)
    stack = BiLSTMStack(4, 5, 2, gen)
    x = gen.normal((2, 6, 4))
    mask = tf.constant([[1.0] * 6, [1.0] * 3 + [0.0] * 3])
    both = stack(x, mask, 0.0, 0.0, training=False).numpy()
    alone = stack(x[1:, :3], mask[1:, :3], 0.0, 0.0, training=False).numpy()
    np.testing.assert_allclose(both[1, :3], alone[0], atol=1e-5)
    assert np.all(both[1, 3:] == 0.0)


def test_locked_dropout_shares_its_mask_over_time():
    gen = tf.random.Generator.from_seed(3)
    y = locked_dropout(tf.ones((2, 7, 50)), 0.5, gen, training=True).numpy()
    assert np.all(y == y[:, :1, :])  # same mask at every time step
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1
    assert np.all(locked_dropout(tf.ones((2, 7, 50)), 0.5, gen, training=False).numpy() == 1.0)


def test_replace_ids_drops_types_not_tokens_and_keeps_specials():
    gen = tf.random.Generator.from_seed(4)
    ids = tf.constant([[2, 7, 7, 9, 1], [7, 9, 9, 8, 1]])
    out = replace_ids(ids, 20, 0.5, gen, training=True).numpy()
    for v in (7, 8, 9):  # every occurrence of a type is dropped together
        assert len(set(out[ids.numpy() == v])) == 1 and out[ids.numpy() == v][0] in (v, DROP)
    assert out[0, 0] == 2 and out[0, 4] == 1 and out[1, 4] == 1
    assert np.all(replace_ids(ids, 20, 1.0, gen, training=True).numpy()[ids.numpy() >= 5] == DROP)


def _toy(n: int, seed: int = 0) -> list[GraphExample]:
    """Sentences where `ikke` is a cue and the next word its scope: learnable from the word alone."""
    rng = np.random.default_rng(seed)
    words = ["han", "var", "glad", "filmen", "god", "boka", "lang", "hun", "så"]
    out = []
    for k in range(n):
        forms = list(rng.choice(words, size=int(rng.integers(3, 7))))
        arcs: list = [[] for _ in forms]
        if k % 2 == 0:
            i = int(rng.integers(0, len(forms) - 1))
            forms[i] = "ikke"
            arcs[i] = [(0, "cue")]
            arcs[i + 1] = [(i + 1, "scope")]
        out.append(GraphExample(str(k), " ".join(forms), forms, forms, ["_"] * len(forms), arcs))
    return out


def _prepared(n, lm_dim=0, seed=0):
    exs = _toy(n, seed)
    rng = np.random.default_rng(5)
    v = build_vocabs(exs, [], 0)
    for ex in exs:
        ex.inputs = featurise(ex, v)
        if lm_dim:
            ex.lm = rng.normal(size=(len(ex), lm_dim)).astype(np.float32)
    return exs, v


@pytest.mark.parametrize("lm_dim", [0, 7])
def test_parser_logits_cover_every_cell(lm_dim):
    exs, v = _prepared(3, lm_dim)
    model = GraphParser(v.sizes(), lm_dim, SMALL, seed=1)
    batch = collate(exs, lm_dim)
    logits = model.logits(batch, training=True)
    t = batch["words"].shape[1]
    assert logits.shape == (3, t, t, len(v.labels))
    assert (model.lm_proj is None) == (lm_dim == 0)
    assert float(model.loss(batch, training=False)) > 0


def test_training_learns_the_toy_task_and_repeats_exactly():
    train, v = _prepared(40, 0, seed=0)
    dev = _prepared(12, 0, seed=1)[0]
    for ex in dev:
        ex.inputs = featurise(ex, v)
    # light dropout and a high learning rate: 100 steps on 40 sentences are enough
    p = dataclasses.replace(SMALL, epochs=10, learning_rate=1e-2, embedding_dropout=0.0, lstm_dropout=0.1,
                            recurrent_dropout=0.0, scorer_dropout=0.1, char_dropout=0.0, char_recurrent_dropout=0.0)
    run = train_parser({"train": train, "dev": dev, "test": dev}, v, p, seed=1234)
    assert run.fit.dev["lf1"] > 0.9, run.fit.curve
    assert run.fit.curve[0]["train_loss"] > 5 * run.fit.curve[-1]["train_loss"]
    assert 1 <= run.fit.best_epoch <= 10 and len(run.test_pred) == len(dev)
    assert run.test_pred[0].shape == (len(dev[0]) + 1, len(dev[0]) + 1)
    # same seed -> same losses; another seed -> different ones
    losses = []
    for seed in (7, 7, 8):
        _model, step, _pred = make_model(v, 0, SMALL, seed)
        losses.append([float(step(collate(train[:4]))) for _ in range(2)])
    assert losses[0] == losses[1] and losses[0] != losses[2]
