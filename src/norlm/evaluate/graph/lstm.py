"""LSTMs for the graph parser: TensorFlow's fused BlockLSTM kernel, locked dropout and WeightDrop.

The reference parser runs cuDNN LSTMs; on CPU the fused kernel is faster than a tf.scan loop
(bench/graph_parser.py), and `scan_lstm` computes the same function step by step (tests compare
values and gradients).  `fused_lstm` lives in norlm.evaluate.layers (the sentiment probe uses it too).
Sequences are padded at the end only, so a forward pass needs no mask; the backward direction
reverses each sentence within its own length first.
"""
from __future__ import annotations

import math

import tensorflow as tf

from norlm.evaluate.layers import fused_lstm


def locked_dropout(x: tf.Tensor, rate: float, gen: tf.random.Generator, training: bool) -> tf.Tensor:
    """Dropout with one mask per sequence, shared over time: x [B, T, D]."""
    if not training or rate <= 0.0:
        return x
    shape = tf.stack([tf.shape(x)[0], 1, tf.shape(x)[2]])
    keep = tf.cast(gen.uniform(shape) >= rate, x.dtype)
    return x * keep / (1.0 - rate)


def scan_lstm(x_tm: tf.Tensor, w: tf.Tensor, b: tf.Tensor, units: int) -> tf.Tensor:
    """The same LSTM as `fused_lstm`, one tf.scan step per time step (the reference and bench baseline)."""
    batch = tf.shape(x_tm)[1]
    zeros = tf.zeros(tf.stack([batch, units]), x_tm.dtype)

    def step(state, x_t):
        h, c = state[0], state[1]
        i, f, g, o = tf.split(tf.matmul(tf.concat([x_t, h], 1), w) + b, 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.stack([tf.sigmoid(o) * tf.tanh(c), c])

    return tf.scan(step, x_tm, initializer=tf.stack([zeros, zeros]))[:, 0]


class LSTMCell(tf.Module):
    """One direction's weights, torch's default init U(-1/sqrt(units), 1/sqrt(units))."""

    def __init__(self, n_in: int, units: int, gen: tf.random.Generator, name: str = "lstm"):
        super().__init__(name=name)
        self.n_in, self.units = n_in, units
        bound = 1.0 / math.sqrt(units)
        with self.name_scope:
            self.kernel = tf.Variable(gen.uniform((n_in + units, 4 * units), -bound, bound), name="kernel")
            self.bias = tf.Variable(gen.uniform((4 * units,), -bound, bound), name="bias")

    def __call__(self, x: tf.Tensor, recurrent_dropout: float, gen: tf.random.Generator, training: bool,
                 fused: bool = True) -> tf.Tensor:
        """x [B, T, D] -> [B, T, units]; WeightDrop (one DropConnect mask per call) on the recurrent kernel."""
        w = self.kernel
        if training and recurrent_dropout > 0.0:
            w_x, w_h = w[:self.n_in], w[self.n_in:]
            keep = tf.cast(gen.uniform(tf.shape(w_h)) >= recurrent_dropout, w.dtype)
            w = tf.concat([w_x, w_h * keep / (1.0 - recurrent_dropout)], 0)
        run = fused_lstm if fused else scan_lstm
        return tf.transpose(run(tf.transpose(x, [1, 0, 2]), w, self.bias, self.units), [1, 0, 2])


class BiLSTMStack(tf.Module):
    """Stacked BiLSTMs; locked dropout before every layer; outputs [B, T, 2 * units], zero at padding."""

    def __init__(self, n_in: int, units: int, layers: int, gen: tf.random.Generator, name: str = "bilstm"):
        super().__init__(name=name)
        self.gen = gen
        with self.name_scope:
            self.cells = [(LSTMCell(n_in if k == 0 else 2 * units, units, gen, name=f"fw{k}"),
                           LSTMCell(n_in if k == 0 else 2 * units, units, gen, name=f"bw{k}")) for k in range(layers)]

    def __call__(self, x: tf.Tensor, mask: tf.Tensor, input_dropout: float, recurrent_dropout: float,
                 training: bool, fused: bool = True) -> tf.Tensor:
        lengths = tf.cast(tf.reduce_sum(mask, axis=1), tf.int32)
        for fw, bw in self.cells:
            x = locked_dropout(x, input_dropout, self.gen, training)
            f = fw(x, recurrent_dropout, self.gen, training, fused)
            rev = tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0)
            r = tf.reverse_sequence(bw(rev, recurrent_dropout, self.gen, training, fused), lengths,
                                    seq_axis=1, batch_axis=0)
            x = tf.concat([f, r], axis=-1) * mask[:, :, None]
        return x
