"""bilm-tf's sampled softmax loss, written out so it compiles with XLA and gathers the negatives once.

The same arithmetic as `tf.nn.sampled_softmax_loss(remove_accidental_hits=True)` with our replayable
`sampled_values` (TF 2.x nn_impl `_compute_sampled_logits`): true logit = <x, W[y]> + b[y], sampled
logits = x·W[s]ᵀ + b[s], a sampled id equal to the row's label gets −FLT_MAX added (an "accidental
hit"), log Q is subtracted from both, and the loss is the softmax cross-entropy with the true class in
column 0.  Differences: the accidental hits are found by one comparison against the shared sample
set instead of the ComputeAccidentalHits op (which XLA cannot compile), and the sampled rows of W and
b are gathered once for all positions of both directions.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

_FLT_MAX = float(np.finfo(np.float32).max)


def sampled_softmax_xent(weights, biases, labels: tf.Tensor, inputs: tf.Tensor, sampled: tf.Tensor,
                         true_expected: tf.Tensor, sampled_expected: tf.Tensor) -> tf.Tensor:
    """Per-row loss.  labels (N,) int, inputs (N, P), sampled (S,) distinct ids, expected counts (N, 1) / (S,)."""
    labels = tf.cast(labels, tf.int64)
    sampled = tf.cast(tf.stop_gradient(sampled), tf.int64)
    true_w = tf.gather(weights, labels)
    sampled_w = tf.gather(weights, sampled)
    sampled_logits = tf.matmul(inputs, sampled_w, transpose_b=True)
    true_logits = tf.matmul(inputs * true_w, tf.ones([inputs.shape[-1], 1], inputs.dtype))  # TF's _sum_rows
    true_logits += tf.gather(biases, labels)[:, None]
    sampled_logits += tf.gather(biases, sampled)
    hits = tf.equal(labels[:, None], sampled[None, :])
    sampled_logits += tf.where(hits, tf.constant(-_FLT_MAX, inputs.dtype), tf.constant(0.0, inputs.dtype))
    true_logits -= tf.math.log(tf.stop_gradient(true_expected))
    sampled_logits -= tf.math.log(tf.stop_gradient(sampled_expected))
    logits = tf.concat([true_logits, sampled_logits], 1)
    targets = tf.concat([tf.ones_like(true_logits), tf.zeros_like(sampled_logits)], 1)
    return tf.nn.softmax_cross_entropy_with_logits(labels=tf.stop_gradient(targets), logits=logits)
