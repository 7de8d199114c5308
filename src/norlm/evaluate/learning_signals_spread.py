"""How far the held-out BERT signals could move with other text of the same kind: a bootstrap.

A verdict such as "below the unigram level" is only worth something when the difference is larger
than its spread.  The unit resampled is the held-out A/B sequence (consecutive UD test sentences),
so the masked targets of one passage stay together; each resample recomputes the model's loss and
accuracy and the chance levels of exactly the resampled targets.

The best any context-free predictor can do on text like this is the entropy of its piece
distribution.  The plug-in entropy of the targets underestimates it (by about (K - 1) / 2N for K
distinct pieces among N targets, more for a long tail: several hundredths of a nat in the demo, as
much as the differences judged), and a resample, with its repeated sequences, underestimates it
further.  So the intervals are basic (pivot) bootstrap intervals and each value is bias-corrected
(twice the measured value minus the resamples' mean); "measured" keeps the value as measured.
"""
from __future__ import annotations

import numpy as np

RESAMPLES = 1000
LEVEL = 0.95


def _measure(w_rows: np.ndarray, per: dict, targets: np.ndarray, rows: np.ndarray, chance_nll: np.ndarray,
             chance_hit: np.ndarray, vocab: int) -> dict[str, float]:
    """The signals on sequences weighted by `w_rows` (how often each was drawn)."""
    w = w_rows[rows]
    total = w.sum()
    counts = np.bincount(targets, weights=w, minlength=vocab)
    p = counts[counts > 0] / total
    loss = float((w * per["nll"]).sum() / total)
    best = float(-(p * np.log(p)).sum())  # plug-in entropy (biased low; see the module docstring)
    return {"best_unigram_entropy": best, "loss_minus_best_unigram": loss - best,
            "loss_minus_train_unigram": loss - float((w * chance_nll).sum() / total),
            "accuracy_minus_top_piece": float((w * (per["hit"].astype(float) - chance_hit)).sum() / total),
            "nsp_accuracy": float((w_rows * per["nsp_hit"]).sum() / w_rows.sum())}


def spread(per: dict, targets: np.ndarray, rows: np.ndarray, chance_nll: np.ndarray, chance_hit: np.ndarray,
           rng: np.random.Generator, resamples: int = RESAMPLES) -> dict:
    """Each signal's value on the held-out text and its bootstrap interval.

    `per` holds the model's per-target `nll` and `hit` and per-sequence `nsp_hit`; `rows` gives each
    target's sequence; `chance_nll` / `chance_hit` are the corpus unigram's per-target loss and whether
    the target is its most frequent piece.
    """
    n_rows, vocab = len(per["nsp_hit"]), int(targets.max(initial=0)) + 1
    args = (per, targets, rows, chance_nll, chance_hit.astype(float), vocab)
    point = _measure(np.ones(n_rows), *args)
    draws = [_measure(np.bincount(rng.integers(0, n_rows, n_rows), minlength=n_rows).astype(float), *args)
             for _ in range(resamples)]
    tail = 100 * (1 - LEVEL) / 2
    out: dict = {"method": f"bootstrap over the {n_rows:,} held-out A/B sequences", "resamples": resamples,
                 "level": LEVEL}
    for key, measured in point.items():
        values = np.array([d[key] for d in draws])
        low, high = np.percentile(values, [tail, 100 - tail])
        # the basic (pivot) interval: a resample errs from the sample as the sample errs from the truth,
        # which also removes the plug-in entropy's downward bias (estimated by the resamples' mean)
        out[key] = {"value": float(2 * measured - values.mean()), "measured": measured,
                    "low": float(2 * measured - high), "high": float(2 * measured - low)}
    return out


def side(interval: dict, level: float = 0.0) -> int:
    """-1 when the whole interval is below `level`, +1 when above, 0 when it holds `level`."""
    if interval["high"] < level:
        return -1
    if interval["low"] > level:
        return 1
    return 0
