"""Adagrad exactly as TF1's `AdagradOptimizer(lr, initial_accumulator_value)` (no epsilon).

acc += g²;  v -= lr · g / sqrt(acc).  The accumulators are plain tf.Variables named
`<var>/Adagrad`, so they are checkpointed (exact resume) under bilm-tf's slot names.
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf


class Adagrad(tf.Module):
    def __init__(self, names: Sequence[str], variables: Sequence[tf.Variable], learning_rate: float,
                 initial_accumulator: float = 1.0):
        super().__init__(name="adagrad")
        self.learning_rate = learning_rate
        self.slots = {f"{name}/Adagrad": tf.Variable(tf.fill(v.shape, initial_accumulator), trainable=False,
                                                     name=f"{name}/Adagrad".replace("/", "."))
                      for name, v in zip(names, variables)}
        self._ordered = [self.slots[f"{name}/Adagrad"] for name in names]

    def apply(self, grads: Sequence[tf.Tensor], variables: Sequence[tf.Variable]) -> None:
        for g, v, acc in zip(grads, variables, self._ordered):
            acc.assign_add(g * g)
            v.assign_sub(self.learning_rate * g * tf.math.rsqrt(acc))
