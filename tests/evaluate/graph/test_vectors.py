"""Frozen BERT vectors for the parser: no [CLS]/[SEP], last layer, mean of each word's pieces; cached."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from norlm.evaluate.graph.features import GraphExample
from norlm.evaluate.graph.settings import GraphProtocol
from norlm.evaluate.graph.vectors import attach_vectors, compute_vectors

WORDS = [["Filmen", "var", "ikke", "særlig", "underholdende", "."], ["Uinteressant", "!"]]


def test_bert_vectors_are_piece_means_of_the_last_layer_without_specials(exported):
    from norlm.evaluate.bert_models import load_bert

    spec = {"name": "tiny", "kind": "bert", "path": exported / "hf", "pretrained": True}
    vectors = compute_vectors(spec, WORDS, GraphProtocol(embed_batch_size=1), 0, "test")
    bundle = load_bert(exported / "hf")
    tok = bundle.tokenizer
    for words, got in zip(WORDS, vectors):
        enc = tok.encode(words, is_pretokenized=True, add_special_tokens=False)
        assert tok.token_to_id("[CLS]") not in enc.ids and tok.token_to_id("[SEP]") not in enc.ids
        ids = tf.constant([enc.ids], tf.int32)
        seq = bundle.model.encode(ids, tf.ones_like(ids), tf.zeros_like(ids))[0].numpy()[0]
        assert got.shape == (len(words), bundle.config.hidden_size) and got.dtype == np.float32
        for w in range(len(words)):
            pieces = [p for p, wid in enumerate(enc.word_ids) if wid == w]
            np.testing.assert_allclose(got[w], seq[pieces].mean(0), atol=1e-5)
        assert len(enc.ids) > len(words)  # some word has several pieces, so the mean is exercised


def test_vectors_are_cached_per_split_and_reused(exported, tmp_path):
    spec = {"name": "tiny", "kind": "bert", "path": exported / "hf", "pretrained": True}
    exs = [GraphExample(str(i), " ".join(w), w, w, ["_"] * len(w), [[] for _ in w]) for i, w in enumerate(WORDS)]
    p = GraphProtocol()
    secs, cached = attach_vectors(exs, spec, {"model": "x"}, tmp_path, p, 0, "test")
    first = [ex.lm.copy() for ex in exs]
    assert not cached and len(list(tmp_path.glob("tiny-*.npz"))) == 1
    _secs, cached = attach_vectors(exs, spec, {"model": "x"}, tmp_path, p, 0, "test")
    assert cached and all(np.array_equal(a, ex.lm) for a, ex in zip(first, exs))
    _secs, cached = attach_vectors(exs, spec, {"model": "y"}, tmp_path, p, 0, "test")  # other model files
    assert not cached and len(list(tmp_path.glob("tiny-*.npz"))) == 2
