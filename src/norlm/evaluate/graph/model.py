"""The graph parser of the NorLM graph tasks (Kurtz et al. 2020's re-implementation of Dozat & Manning).

Token vector = [word; lemma; POS; char model; Linear(frozen LM vector)] -> stacked BiLSTMs ->
head / dependent projections (no non-linearity) -> diagonal bilinear scores s[b, i, j, l] =
sum_k head[b, i, k] U[l, k] dep[b, j, k] for every (head i, dependent j) cell, label 0 = no arc.
The char model: char embeddings -> Conv1d(k=3) -> uni-LSTM -> last state -> Linear.
Embedding dropout "replace": each distinct word/lemma/POS id of a batch is swapped for the learned
<DROP> row with probability p, and a token's char vector for a learned drop vector.
Initialisation follows torch's defaults (embeddings N(0, 1), LSTMs U(+-1/sqrt(h))); linear layers
and U are Glorot-uniform.
"""
from __future__ import annotations

import tensorflow as tf

from norlm.evaluate.graph.features import DROP, SPECIALS
from norlm.evaluate.graph.lstm import BiLSTMStack, LSTMCell, locked_dropout
from norlm.evaluate.layers import Dense, glorot


def replace_ids(ids: tf.Tensor, vocab_size: int, rate: float, gen: tf.random.Generator, training: bool) -> tf.Tensor:
    """Embedding dropout by type: every non-special id is replaced by <DROP> with probability `rate`."""
    if not training or rate <= 0.0:
        return ids
    dropped = gen.uniform([vocab_size]) < rate
    hit = tf.logical_and(tf.gather(dropped, ids), ids >= len(SPECIALS))
    return tf.where(hit, tf.fill(tf.shape(ids), DROP), ids)


class CharModel(tf.Module):
    def __init__(self, n_chars: int, dim: int, hidden: int, gen: tf.random.Generator):
        super().__init__(name="chars")
        with self.name_scope:
            self.embedding = tf.Variable(gen.normal((n_chars, dim)), name="embedding")
            self.conv = tf.Variable(glorot(gen, (3 * dim, dim)), name="conv")
            self.conv_bias = tf.Variable(tf.zeros([dim]), name="conv_bias")
            self.lstm = LSTMCell(dim, hidden, gen, name="lstm")
            self.out = Dense(hidden, hidden, gen, name="out")
        self.dim = dim

    def __call__(self, chars: tf.Tensor, p, gen, training: bool, fused: bool) -> tf.Tensor:
        """chars [B, T, C] ids (0 = padding) -> [B, T, hidden]."""
        b, t, c = tf.shape(chars)[0], tf.shape(chars)[1], tf.shape(chars)[2]
        flat = tf.reshape(chars, tf.stack([b * t, c]))
        present = tf.cast(flat > 0, tf.float32)[:, :, None]
        x = tf.gather(self.embedding, flat) * present
        x = tf.nn.conv1d(x, tf.reshape(self.conv, [3, self.dim, self.dim]), 1, "SAME") + self.conv_bias
        x = locked_dropout(x * present, p.char_dropout, gen, training)
        states = self.lstm(x, p.char_recurrent_dropout, gen, training, fused)
        last = tf.maximum(tf.reduce_sum(tf.cast(flat > 0, tf.int32), axis=1) - 1, 0)
        h = tf.gather(states, last, batch_dims=1)
        h = tf.reshape(h, tf.stack([b, t, self.lstm.units]))
        return self.out(locked_dropout(h, p.char_dropout, gen, training))


class GraphParser(tf.Module):
    """Label logits [B, T, T, L] over every (head, dependent) cell of a padded batch (ROOT at 0)."""

    def __init__(self, sizes: dict[str, int], lm_dim: int, protocol, seed: int, fused: bool = True):
        super().__init__(name="graph_parser")
        p = self.protocol = protocol
        self.sizes, self.lm_dim, self.fused = dict(sizes), lm_dim, fused
        gen = self.gen = tf.random.Generator.from_seed(seed)
        with self.name_scope:
            self.words = tf.Variable(gen.normal((sizes["words"], p.word_dim)), name="words")
            self.lemmas = tf.Variable(gen.normal((sizes["lemmas"], p.lemma_dim)), name="lemmas")
            self.pos = tf.Variable(gen.normal((sizes["pos"], p.pos_dim)), name="pos")
            self.chars = CharModel(sizes["chars"], p.char_dim, p.char_hidden, gen)
            self.char_drop = tf.Variable(gen.normal((p.char_hidden,)), name="char_drop")
            n_in = p.word_dim + p.lemma_dim + p.pos_dim + p.char_hidden
            self.lm_proj = None
            if lm_dim:
                self.lm_proj = Dense(lm_dim, p.lm_dim, gen, name="lm_proj")
                n_in += p.lm_dim
            self.encoder = BiLSTMStack(n_in, p.lstm_hidden, p.lstm_layers, gen)
            self.head = Dense(2 * p.lstm_hidden, p.scorer_dim, gen, name="head")
            self.dep = Dense(2 * p.lstm_hidden, p.scorer_dim, gen, name="dep")
            self.bilinear = tf.Variable(glorot(gen, (sizes["labels"], p.scorer_dim)), name="bilinear")

    def logits(self, batch: dict, training: bool) -> tf.Tensor:
        p, gen = self.protocol, self.gen
        parts = []
        for table, key, size in ((self.words, "words", "words"), (self.lemmas, "lemmas", "lemmas"),
                                 (self.pos, "pos", "pos")):
            ids = replace_ids(batch[key], self.sizes[size], p.embedding_dropout, gen, training)
            parts.append(tf.gather(table, ids))
        chars = self.chars(batch["chars"], p, gen, training, self.fused)
        if training and p.embedding_dropout > 0.0:
            hit = gen.uniform(tf.shape(batch["words"])) < p.embedding_dropout
            chars = tf.where(hit[:, :, None], tf.broadcast_to(self.char_drop, tf.shape(chars)), chars)
        parts.append(chars)
        if self.lm_proj is not None:
            parts.append(self.lm_proj(batch["lm"]))
        mask = batch["mask"]
        h = self.encoder(tf.concat(parts, -1), mask, p.lstm_dropout, p.recurrent_dropout, training, self.fused)
        head = self.head(locked_dropout(h, p.scorer_dropout, gen, training))
        dep = self.dep(locked_dropout(h, p.scorer_dropout, gen, training))
        head = locked_dropout(head, p.scorer_dropout, gen, training)
        dep = locked_dropout(dep, p.scorer_dropout, gen, training)
        return tf.einsum("bik,lk,bjk->bijl", head, self.bilinear, dep)

    def loss(self, batch: dict, training: bool = True) -> tf.Tensor:
        """Cross-entropy over every cell of the (n+1) x (n+1) matrix, averaged over the batch's cells."""
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(batch["labels"], self.logits(batch, training))
        cells = batch["mask"][:, :, None] * batch["mask"][:, None, :]
        return tf.reduce_sum(ce * cells) / tf.maximum(tf.reduce_sum(cells), 1.0)

    def predict(self, batch: dict) -> tf.Tensor:
        """Argmax label id per cell [B, T, T]; label > 0 means an arc."""
        return tf.argmax(self.logits(batch, False), axis=-1, output_type=tf.int32)
