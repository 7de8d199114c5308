"""Static masked-LM predictions of bert-recipe §1.5, for a whole batch of instances at once.

Per instance: candidates are all positions except `[CLS]`/`[SEP]`; `num_to_predict =
min(max_predictions, max(1, round(length * masked_lm_prob)))` (length includes the three special
tokens; `np.round` rounds half to even like Python's `round`); the chosen positions are the
candidates with the smallest uniform keys (a uniform random subset, as shuffling and taking the
first ones is); each is replaced by `[MASK]` with probability 0.8, kept with 0.1, or replaced by
a uniformly drawn vocabulary entry with 0.1.  Positions are sorted ascending.

With `whole_word_mask` (Google's option, off for NorBERT) the candidates are words (a piece and
its following `##` pieces); words are visited in random order and taken whole while they fit in
`num_to_predict`, skipping a word that would overshoot, as Google's script does.
"""
from __future__ import annotations

import numpy as np


def num_to_predict(lengths: np.ndarray, masked_lm_prob: float, max_predictions: int) -> np.ndarray:
    return np.minimum(max_predictions, np.maximum(1, np.round(lengths * masked_lm_prob))).astype(np.int64)


def _candidates(input_ids: np.ndarray, lengths: np.ndarray, cls_id: int, sep_id: int) -> np.ndarray:
    pos = np.arange(input_ids.shape[1])[None, :]
    return (pos < lengths[:, None]) & (input_ids != cls_id) & (input_ids != sep_id)


def _token_choice(cand: np.ndarray, k: np.ndarray, max_predictions: int, rng: np.random.Generator) -> np.ndarray:
    """[N, width] positions, ascending: k uniformly chosen candidates per row, then `S` as padding."""
    n, s = cand.shape
    keys = rng.random(cand.shape, dtype=np.float32)
    keys[~cand] = 2.0
    width = min(max_predictions, s)
    if width < s:
        part = np.argpartition(keys, width - 1, axis=1)[:, :width]
        order = np.take_along_axis(part, np.argsort(np.take_along_axis(keys, part, axis=1), axis=1), axis=1)
    else:
        order = np.argsort(keys, axis=1)
    return np.sort(np.where(np.arange(width)[None, :] < k[:, None], order, s), axis=1)


def _word_choice(cand: np.ndarray, input_ids: np.ndarray, continuation: np.ndarray, k: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Boolean [N, S]: whole words, visited in random order, taken while they fit in k."""
    n, s = cand.shape
    starts = cand & ~(continuation[input_ids] & np.concatenate([np.zeros((n, 1), bool), cand[:, :-1]], axis=1))
    word = np.where(cand, np.cumsum(starts, axis=1) - 1, -1)
    n_words = starts.sum(axis=1)
    rows = np.repeat(np.arange(n), s).reshape(n, s)
    sizes = np.zeros((n, s), np.int64)
    np.add.at(sizes, (rows[cand], word[cand]), 1)
    keys = rng.random((n, s))
    keys[np.arange(s)[None, :] >= n_words[:, None]] = 2.0
    order = np.argsort(keys, axis=1)
    taken = np.zeros((n, s), bool)
    count = np.zeros(n, np.int64)
    r = np.arange(n)
    for rank in range(int(n_words.max(initial=0))):
        w = order[:, rank]
        g = sizes[r, w]
        ok = (g > 0) & (count + g <= k)
        taken[r, w] = ok
        count += np.where(ok, g, 0)
    return cand & taken[rows, np.maximum(word, 0)]


def mask_batch(input_ids: np.ndarray, lengths: np.ndarray, *, masked_lm_prob: float, max_predictions: int,
               cls_id: int, sep_id: int, mask_id: int, random_ids: np.ndarray, rng: np.random.Generator,
               continuation: np.ndarray | None = None):
    """Mask `input_ids` in place; return (positions, label_ids, weights) padded to max_predictions."""
    n = input_ids.shape[0]
    cand = _candidates(input_ids, lengths, cls_id, sep_id)
    k = num_to_predict(lengths, masked_lm_prob, max_predictions)
    s = input_ids.shape[1]
    width = min(max_predictions, s)
    if continuation is None:
        order = _token_choice(cand, k, max_predictions, rng)
    else:
        chosen = _word_choice(cand, input_ids, continuation, k, rng)
        # chosen positions in ascending order, left-aligned: a stable sort of "not chosen" keys
        order = np.argsort(~chosen, axis=1, kind="stable")[:, :width]
        order[np.arange(width)[None, :] >= chosen.sum(axis=1)[:, None]] = s
    valid = order < s
    positions = np.where(valid, order, 0)
    rows = np.arange(n)[:, None]
    labels = np.where(valid, input_ids[rows, positions], 0)

    u = rng.random((n, width))
    replacement = random_ids[rng.integers(0, len(random_ids), size=(n, width))]
    new = np.where(u < 0.8, mask_id, np.where(u < 0.9, labels, replacement))
    input_ids[np.broadcast_to(rows, positions.shape)[valid], positions[valid]] = new[valid]

    out_pos = np.zeros((n, max_predictions), np.int32)
    out_ids = np.zeros((n, max_predictions), np.int32)
    out_w = np.zeros((n, max_predictions), np.float32)
    out_pos[:, :width] = positions
    out_ids[:, :width] = labels
    out_w[:, :width] = valid
    return out_pos, out_ids, out_w
