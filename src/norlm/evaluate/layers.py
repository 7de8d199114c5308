"""Small pure-TensorFlow layers for the classifiers: dense, dropout, feed-forward head, BiLSTM.

The ELMo protocol needs a one-hidden-layer feed-forward tagger and a BiLSTM sentence classifier
with global max pooling; the BERT protocol needs a linear layer on top of the encoder.
"""
from __future__ import annotations

import math

import tensorflow as tf


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


class LSTM(tf.Module):
    """One LSTM direction: gates i, f, g, o from [x_t, h_{t-1}]; forget-gate bias starts at 1.

    Padded steps (mask 0) keep the previous state, so a reversed pass over a padded batch
    starts at each sentence's own last word.
    """

    def __init__(self, n_in: int, units: int, gen: tf.random.Generator, name: str = "lstm"):
        super().__init__(name=name)
        self.units = units
        with self.name_scope:
            self.kernel = tf.Variable(glorot(gen, (n_in + units, 4 * units)), name="kernel")
            bias = tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0)
            self.bias = tf.Variable(bias, name="bias")

    def __call__(self, x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """x [B, T, D], mask [B, T] -> hidden states [B, T, units] (zeros at padding)."""
        batch = tf.shape(x)[0]
        xs = tf.transpose(x, [1, 0, 2])
        ms = tf.transpose(tf.cast(mask, x.dtype), [1, 0])[:, :, None]
        zeros = tf.zeros([batch, self.units], x.dtype)

        def step(state, inputs):
            h, c = state[0], state[1]
            x_t, m_t = inputs
            z = tf.matmul(tf.concat([x_t, h], 1), self.kernel) + self.bias
            i, f, g, o = tf.split(z, 4, axis=1)
            c_new = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h_new = tf.sigmoid(o) * tf.tanh(c_new)
            c_new = m_t * c_new + (1.0 - m_t) * c
            h_new = m_t * h_new + (1.0 - m_t) * h
            return tf.stack([h_new, c_new])

        states = tf.scan(step, (xs, ms), initializer=tf.stack([zeros, zeros]))
        return tf.transpose(states[:, 0], [1, 0, 2]) * tf.transpose(ms, [1, 0, 2])


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
