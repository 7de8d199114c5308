"""Small pure-TensorFlow layers for the classifiers: dense, dropout, feed-forward head, BiLSTM.

The ELMo protocol needs a one-hidden-layer feed-forward tagger and a BiLSTM sentence classifier
with global max pooling; the BERT protocol needs a linear layer on top of the encoder.  The LSTMs
run TensorFlow's fused BlockLSTM kernel (one op for the whole sequence instead of a tf.scan step
per word), which the graph parser shares.
"""
from __future__ import annotations

import math

import tensorflow as tf

try:  # registers the gradients of the fused LSTM ops (not imported by `import tensorflow` alone)
    from tensorflow.python.ops import rnn_grad  # noqa: F401
except ImportError:  # pragma: no cover - older layouts register them on import
    pass


def glorot(gen: tf.random.Generator, shape: tuple[int, int]) -> tf.Tensor:
    limit = math.sqrt(6.0 / (shape[0] + shape[1]))
    return gen.uniform(shape, -limit, limit)


def dropout(x: tf.Tensor, rate: float, gen: tf.random.Generator, training: bool) -> tf.Tensor:
    """Inverted dropout driven by a seeded generator (so runs repeat exactly)."""
    if not training or rate <= 0.0:
        return x
    keep = tf.cast(gen.uniform(tf.shape(x)) >= rate, x.dtype)
    return x * keep / (1.0 - rate)


class Dense(tf.Module):
    def __init__(self, n_in: int, n_out: int, gen: tf.random.Generator, name: str = "dense"):
        super().__init__(name=name)
        with self.name_scope:
            self.kernel = tf.Variable(glorot(gen, (n_in, n_out)), name="kernel")
            self.bias = tf.Variable(tf.zeros([n_out]), name="bias")

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.tensordot(x, self.kernel, axes=1) + self.bias


class FeedForwardTagger(tf.Module):
    """Features -> dropout -> hidden (ReLU) -> dropout -> label logits."""

    def __init__(self, n_in: int, hidden: int, n_labels: int, rate: float, gen: tf.random.Generator):
        super().__init__(name="ffn")
        self.gen, self.rate = gen, rate
        with self.name_scope:
            self.hidden = Dense(n_in, hidden, gen, name="hidden")
            self.output = Dense(hidden, n_labels, gen, name="output")

    def __call__(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        h = tf.nn.relu(self.hidden(dropout(x, self.rate, self.gen, training)))
        return self.output(dropout(h, self.rate, self.gen, training))


def fused_lstm(x_tm: tf.Tensor, w: tf.Tensor, b: tf.Tensor, units: int) -> tf.Tensor:
    """Hidden states [T, B, units] of an LSTM over time-major x [T, B, D] (zero initial state).

    Our gate layout is i, f, g, o over [x_t, h_{t-1}]; BlockLSTM wants i, g, f, o, so the columns are
    permuted on the way in.  (BlockLSTMV2 takes i, f, g, o directly, but its registered gradient
    disagreed with finite differences on TF 2.18, so V1 is used.)
    """
    batch = tf.shape(x_tm)[1]
    zeros = tf.zeros(tf.stack([batch, units]), x_tm.dtype)
    peep = tf.zeros([units], x_tm.dtype)
    i, f, g, o = tf.split(w, 4, axis=1)
    bi, bf, bg, bo = tf.split(b, 4)
    out = tf.raw_ops.BlockLSTM(seq_len_max=tf.cast(tf.shape(x_tm)[0], tf.int64), x=x_tm, cs_prev=zeros,
                               h_prev=zeros, w=tf.concat([i, g, f, o], 1), wci=peep, wcf=peep, wco=peep,
                               b=tf.concat([bi, bg, bf, bo], 0), forget_bias=0.0, cell_clip=-1.0,
                               use_peephole=False)
    return out[6]


class LSTM(tf.Module):
    """One LSTM direction: gates i, f, g, o from [x_t, h_{t-1}]; forget-gate bias starts at 1.

    Sequences are padded at the end only (the reversed pass reverses each sentence within its own
    length first), so the states of real words never see padding and need no mask in the loop.
    """

    def __init__(self, n_in: int, units: int, gen: tf.random.Generator, name: str = "lstm"):
        super().__init__(name=name)
        self.units = units
        with self.name_scope:
            self.kernel = tf.Variable(glorot(gen, (n_in + units, 4 * units)), name="kernel")
            bias = tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0)
            self.bias = tf.Variable(bias, name="bias")

    def __call__(self, x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """x [B, T, D], mask [B, T] (end padding) -> hidden states [B, T, units] (zeros at padding)."""
        states = fused_lstm(tf.transpose(x, [1, 0, 2]), self.kernel, self.bias, self.units)
        return tf.transpose(states, [1, 0, 2]) * tf.cast(mask, x.dtype)[:, :, None]


class BiLSTMClassifier(tf.Module):
    """Word vectors -> BiLSTM -> global max pooling over words -> dropout -> label logits."""

    def __init__(self, n_in: int, units: int, n_labels: int, rate: float, gen: tf.random.Generator):
        super().__init__(name="bilstm")
        self.gen, self.rate = gen, rate
        with self.name_scope:
            self.forward = LSTM(n_in, units, gen, name="forward")
            self.backward = LSTM(n_in, units, gen, name="backward")
            self.output = Dense(2 * units, n_labels, gen, name="output")

    def __call__(self, x: tf.Tensor, mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        x = dropout(x, self.rate, self.gen, training)
        fwd = self.forward(x, mask)
        rev = tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0)
        bwd = tf.reverse_sequence(self.backward(rev, mask), lengths, seq_axis=1, batch_axis=0)
        states = tf.concat([fwd, bwd], axis=-1)
        very_negative = tf.fill(tf.shape(states), tf.constant(-1e9, states.dtype))
        pooled = tf.reduce_max(tf.where(tf.cast(mask, tf.bool)[:, :, None], states, very_negative), axis=1)
        return self.output(dropout(pooled, self.rate, self.gen, training))
