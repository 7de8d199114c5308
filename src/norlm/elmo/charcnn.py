"""bilm-tf's character convolutions with max-over-time pooling, computed with less work and the same result.

Two savings, both exact in what they compute:
- Trimmed rows.  A token row is [BOW, bytes, EOW, PAD, ...]: every window that lies wholly in the
  padding has the same value, so the max over a row cut to (its used columns + widest filter) equals
  the max over all `max_characters_per_token` columns.  The rows are sorted by length into a few
  groups, each cut to its longest row: most words are short, so most rows cost few columns.
- Sparse backward.  Max pooling passes each pooled gradient to one position only, so the gradient of
  filter offset k is a sum of char-embedding rows at (argmax + k), weighted by that gradient: one
  scatter of (N, filters) values into a (chars, filters) table per offset, then two small matmuls
  with the char table - instead of two dense convolution backprops over every position.  (The
  gradient is the same function as the convolutions' autodiff, summed in another order; where two
  positions tie for the max their windows hold the same characters, so it does not matter which
  one gets the gradient.)
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf


def used_columns(ids: tf.Tensor, fillers: Sequence[int]) -> tf.Tensor:
    """(N,) the last non-filler column of each row + 1 (0 for a row of fillers only)."""
    real = tf.ones_like(ids, dtype=tf.bool)
    for f in fillers:
        real = tf.logical_and(real, tf.not_equal(ids, f))
    return tf.reduce_max(tf.where(real, tf.range(1, tf.shape(ids)[1] + 1)[None, :], 0), axis=1)


def trimmed_width(ids: tf.Tensor, fillers: Sequence[int], widest: int) -> tf.Tensor:
    """Columns to keep for these rows: their longest used part + `widest`, at most the row width."""
    return _kept_columns(used_columns(ids, fillers), tf.shape(ids)[1], widest)


def _kept_columns(used: tf.Tensor, row_width: tf.Tensor, widest: int) -> tf.Tensor:
    """max(used) + `widest` columns, at most `row_width` (`widest` for no rows at all)."""
    return tf.minimum(row_width, tf.reduce_max(tf.concat([[0], used], 0)) + widest)


def max_pooled_convolutions(table: tf.Tensor, kernels: Sequence[tf.Tensor], ids: tf.Tensor,
                            fillers: Sequence[int], groups: Sequence[float] = (0.5, 0.875)) -> list[tf.Tensor]:
    """max over positions of conv_w(table[ids]) for each kernel (1, w, D, n): a list of (N, n).

    `ids` (N, C) int32; `fillers` are the ids that pad a row (PAD, and 0 for inference's empty rows).
    The rows are sorted by length and cut at the `groups` fractions; each group is trimmed to its own
    longest row, so short words (most of them) cost few columns.
    """
    widest = max(int(k.shape[1]) for k in kernels)
    used = used_columns(ids, fillers)
    order = tf.argsort(used, stable=True)
    n = tf.shape(ids)[0]
    cuts = [0] + [tf.cast(tf.cast(n, tf.float32) * f, tf.int32) for f in groups] + [n]
    parts = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        group = order[lo:hi]
        width = _kept_columns(tf.gather(used, group), tf.shape(ids)[1], widest)
        parts.append(_pooled_group(table, kernels, tf.gather(ids, group)[:, :width]))
    back = tf.math.invert_permutation(order)
    return [tf.gather(tf.concat([p[i] for p in parts], 0), back) for i in range(len(kernels))]


def _pooled_group(table: tf.Tensor, kernels: Sequence[tf.Tensor], ids: tf.Tensor) -> list[tf.Tensor]:
    """The pooled convolutions of rows already trimmed, with the sparse backward."""
    @tf.custom_gradient
    def pooled(table, *kernels):
        emb = tf.nn.embedding_lookup(table, ids[:, None, :])  # (N, 1, C', D): a height-1 image per token
        outs, where = [], []
        for kernel in kernels:
            conv = tf.nn.conv2d(emb, kernel, strides=1, padding="VALID")[:, 0]  # (N, C'-w+1, n)
            # (the reshapes: oneDNN's conv2d returns its input's shape for an empty group of rows)
            n = int(kernel.shape[3])
            outs.append(tf.reshape(tf.reduce_max(conv, axis=1), [-1, n]))
            where.append(tf.reshape(tf.argmax(conv, axis=1, output_type=tf.int32), [-1, n]))  # (N, n)

        def grad(*upstream):
            n_chars = tf.shape(table)[0]
            d_table = tf.zeros_like(table)
            d_kernels = []
            for kernel, pos, g in zip(kernels, where, upstream):
                if g is None:  # this filter's output was not used
                    d_kernels.append(tf.zeros_like(kernel))
                    continue
                g = tf.convert_to_tensor(g)  # the un-sorting gather hands back IndexedSlices
                width, n = int(kernel.shape[1]), int(kernel.shape[3])
                columns = tf.range(n)[None, :]
                # slot (k, char, filter) gathers g of every token whose window at offset k holds char
                slots = tf.stack([(k * n_chars + tf.gather(ids, pos + k, batch_dims=1)) * n + columns
                                  for k in range(width)])  # (w, N, n)
                weights = tf.math.unsorted_segment_sum(
                    tf.broadcast_to(g[None], tf.shape(slots)), slots, width * n_chars * n)
                weights = tf.reshape(weights, [width, n_chars, n])  # (w, V, n)
                d_kernels.append(tf.einsum("vd,kvn->kdn", table, weights)[None])
                d_table += tf.einsum("kvn,kdn->vd", weights, kernel[0])
            return [d_table] + d_kernels

        return outs, grad

    return pooled(table, *kernels)
