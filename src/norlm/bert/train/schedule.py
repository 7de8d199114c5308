"""Learning rate as NVIDIA's `create_optimizer` sets it (bert-recipe §2.5).

`s` is the number of updates already applied (the global step before this update):
    s < W:   lr = init_lr * s / W                      (exactly 0 at s = 0)
    else:    LAMB  init_lr * (1 - min(s, T)/T) ** 0.5
             Adam  init_lr' * (1 - min(s, T)/T) ** 1.0 with init_lr' = init_lr / (1 - W/T)
The decay is measured from step 0 (not from the end of warm-up).  Phase 2 continuing phase 1 keeps
`s` and only changes T, which is where NorBERT's LR jump to 0.632 x peak at step 795,000 comes from.
"""
from __future__ import annotations

import tensorflow as tf


def learning_rate(step, init_lr: float, total_steps: int, warmup_steps: int, optimizer: str = "lamb"):
    """The LR for the update after `step` applied updates (a tf scalar; `step` may be a tensor)."""
    s = tf.cast(step, tf.float64)
    T = float(total_steps)
    power = 0.5 if optimizer == "lamb" else 1.0
    peak = float(init_lr)
    if optimizer != "lamb" and warmup_steps > 0 and warmup_steps < total_steps:
        peak = init_lr / (1.0 - warmup_steps / T)
    decayed = peak * tf.pow(1.0 - tf.minimum(s, T) / T, power)
    if warmup_steps > 0:
        warm = init_lr * s / float(warmup_steps)
        decayed = tf.where(s < float(warmup_steps), warm, decayed)
    return tf.cast(decayed, tf.float32)


def learning_rate_value(step: int, init_lr: float, total_steps: int, warmup_steps: int,
                        optimizer: str = "lamb") -> float:
    """Plain-Python form of `learning_rate` (for logs, tests and plots)."""
    if warmup_steps > 0 and step < warmup_steps:
        return init_lr * step / warmup_steps
    power = 0.5 if optimizer == "lamb" else 1.0
    peak = init_lr
    if optimizer != "lamb" and 0 < warmup_steps < total_steps:
        peak = init_lr / (1.0 - warmup_steps / total_steps)
    return peak * (1.0 - min(step, total_steps) / total_steps) ** power
