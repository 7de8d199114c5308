"""The epoch loop shared by every model: train, score dev, keep the best dev epoch, score test.

The best epoch's weights are kept in memory (a copy of each variable) and restored at the end,
so test is scored once, with the weights the paper would have kept.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from tqdm import tqdm


@dataclass
class Learner:
    """What the loop needs from a model: its variables, one training step and batched prediction."""

    variables: Sequence  # every tf.Variable the snapshot must cover (weights, not optimiser state)
    train_step: Callable[[dict], float]  # one batch -> loss
    predict: Callable[[list], list]  # examples -> predictions (one per example)
    collate: Callable[[list], dict]  # examples -> padded batch for train_step
    length: Callable[[object], int] | None = None  # example -> padded length (enables length buckets)


@dataclass
class FitResult:
    best_epoch: int
    dev: dict
    test: dict
    curve: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0
    total_seconds: float = 0.0


def batches(n: int, batch_size: int, rng: np.random.Generator | None, lengths: list[int] | None = None,
            pool: int = 50) -> list[np.ndarray]:
    """Index batches over n examples; shuffled when an rng is given.

    With `lengths`, each pool of `pool` batches worth of shuffled examples is sorted by length before
    it is cut into batches (and the batches are shuffled again), so a batch pads little.
    """
    order = rng.permutation(n) if rng is not None else np.arange(n)
    if lengths is None:
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    out = []
    span = batch_size * pool
    for start in range(0, n, span):
        chunk = sorted(order[start:start + span], key=lambda i: lengths[i])
        out.extend(np.asarray(chunk[i:i + batch_size]) for i in range(0, len(chunk), batch_size))
    if rng is not None:
        out = [out[i] for i in rng.permutation(len(out))]
    return out


def fit(learner: Learner, train: list, dev: list, test: list, epochs: int, batch_size: int,
        score: Callable[[list, list], dict], seed: int, desc: str = "") -> FitResult:
    """Train for `epochs`, select the epoch with the best dev score (`score(...)["score"]`)."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    best_score, best_epoch, best_dev, snapshot = -np.inf, 0, {}, None
    curve = []
    train_seconds = 0.0
    lengths = [learner.length(ex) for ex in train] if learner.length else None
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        losses = []
        steps = batches(len(train), batch_size, rng, lengths)
        for idx in tqdm(steps, desc=f"{desc} epoch {epoch}/{epochs}", leave=False, mininterval=2.0):
            losses.append(float(learner.train_step(learner.collate([train[i] for i in idx]))))
        train_seconds += time.perf_counter() - t0
        dev_scores = score(dev, learner.predict(dev))
        curve.append({"epoch": epoch, "train_loss": float(np.mean(losses)) if losses else 0.0,
                      "dev": dev_scores["score"], "seconds": round(time.perf_counter() - t0, 3)})
        if dev_scores["score"] > best_score:
            best_score, best_epoch, best_dev = dev_scores["score"], epoch, dev_scores
            snapshot = [v.numpy() for v in learner.variables]
    if snapshot is not None:
        for var, value in zip(learner.variables, snapshot):
            var.assign(value)
    test_scores = score(test, learner.predict(test))
    return FitResult(best_epoch, best_dev, test_scores, curve, round(train_seconds, 3),
                     round(time.perf_counter() - start, 3))
