"""Negative candidates for the sampled softmax: TF's log-uniform unique sampler, replayable.

`tf.nn.sampled_softmax_loss` normally draws from `log_uniform_candidate_sampler(unique=True)`,
whose random state lives inside the op and cannot be checkpointed.  We draw the same
distribution here from a numpy generator seeded by (seed, rank, step) - so a resumed run draws
exactly what the uninterrupted one did - and hand TF the `sampled_values` triple with the
expected counts computed the way TF's RangeSampler does (elmo-format spec section 2.4):
P(k) = log((k+2)/(k+1)) / log(V+1); value = floor(exp(u·log(V+1))) − 1; unique by rejection;
expected count = −expm1(tries·log1p(−P)) (P·S when no draw was rejected).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf


def log_uniform_unique(rng: np.random.Generator, num_sampled: int, range_max: int) -> tuple[np.ndarray, int]:
    """`num_sampled` distinct ids in draw order, and the number of draws it took."""
    if num_sampled > range_max:
        raise ValueError(f"cannot draw {num_sampled} distinct negatives from a vocabulary of {range_max}")
    log_range = np.log1p(range_max)
    draws = np.zeros(0, dtype=np.int64)
    chunk = max(2 * num_sampled, 1024)
    while True:
        u = rng.random(chunk)
        new = (np.exp(u * log_range)).astype(np.int64) - 1
        draws = np.concatenate([draws, np.minimum(new, range_max - 1)])
        _, first = np.unique(draws, return_index=True)
        if len(first) >= num_sampled:
            first.sort()
            picked = first[:num_sampled]
            return draws[picked], int(picked[-1]) + 1


def log_uniform_prob(ids: tf.Tensor, range_max: int) -> tf.Tensor:
    ids = tf.cast(ids, tf.float64)
    return tf.math.log((ids + 2.0) / (ids + 1.0)) / np.log1p(range_max)


def expected_count(ids: tf.Tensor, num_sampled: int, num_tries: tf.Tensor, range_max: int) -> tf.Tensor:
    """TF RangeSampler's expected count of each id in a unique sample of `num_sampled` from `num_tries` draws."""
    p = log_uniform_prob(ids, range_max)
    tries = tf.cast(num_tries, tf.float64)
    unique_case = -tf.math.expm1(tries * tf.math.log1p(-p))
    count = tf.where(tf.equal(tries, float(num_sampled)), p * num_sampled, unique_case)
    return tf.cast(count, tf.float32)


def sampled_values(sampled: tf.Tensor, num_tries: tf.Tensor, labels: tf.Tensor, range_max: int):
    """The (sampled_candidates, true_expected_count, sampled_expected_count) triple for TF's loss."""
    num_sampled = sampled.shape[0]
    return (sampled, expected_count(labels, num_sampled, num_tries, range_max),
            expected_count(sampled, num_sampled, num_tries, range_max))
