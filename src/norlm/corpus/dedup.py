"""Exact and near-duplicate removal with bounded memory and a result independent of parallelism.

Every candidate record (a sentence of >= 5 words, or a document's MinHash-LSH band) gets a 64-bit
key and a global position (unit number << 32 | index within the unit).  A record is a duplicate
when an earlier position holds the same key.  Keys are partitioned into 2^k buckets by their top
bits and each bucket is solved on its own (sort by key, then position), so memory is bounded by the
largest bucket however large the corpus, and buckets can be spread over MPI ranks.  The outcome
depends only on the input order, never on how many workers or ranks computed it.
"""
from __future__ import annotations

import hashlib
import math
from typing import Iterable

import numpy as np

_MERSENNE = np.uint64((1 << 61) - 1)


def key64(text: str) -> int:
    """64-bit key of a normalised line."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def position(unit: int, index: np.ndarray | int) -> np.ndarray:
    return (np.int64(unit) << np.int64(32)) | np.asarray(index, dtype=np.int64)


def bucket_bits(total: int, max_entries: int) -> int:
    """Smallest k such that 2^k buckets hold about `max_entries` keys each."""
    if total <= max_entries:
        return 0
    return min(16, math.ceil(math.log2(total / max_entries)))


def bucket_of(keys: np.ndarray, bits: int) -> np.ndarray:
    if bits == 0:
        return np.zeros(len(keys), dtype=np.int64)
    return (keys >> np.uint64(64 - bits)).astype(np.int64)


def later_occurrences(keys: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions of every record whose key occurred earlier, position of that key's first record)."""
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    order = np.lexsort((positions, keys))
    k, p = keys[order], positions[order]
    starts = np.ones(len(k), dtype=bool)
    starts[1:] = k[1:] != k[:-1]
    first_index = np.maximum.accumulate(np.where(starts, np.arange(len(k)), 0))
    dup = ~starts
    return p[dup], p[first_index[dup]]


class MinHasher:
    """MinHash signatures of word shingles, cut into LSH bands (one 64-bit key per band)."""

    def __init__(self, bands: int, rows: int, shingle: int, seed: int):
        rng = np.random.default_rng(seed)
        n = bands * rows
        self.bands, self.rows, self.shingle = bands, rows, shingle
        self.a = rng.integers(1, 1 << 32, size=n, dtype=np.uint64)
        self.b = rng.integers(0, 1 << 32, size=n, dtype=np.uint64)

    def band_keys(self, sentences: Iterable[str]) -> np.ndarray:
        words = " ".join(sentences).casefold().split()
        n = self.shingle
        grams = {" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}
        hashes = np.array([key64(g) & 0xFFFFFFFF for g in sorted(grams)], dtype=np.uint64)
        sig = ((hashes[:, None] * self.a[None, :] + self.b[None, :]) % _MERSENNE).min(axis=0)
        rows = sig.reshape(self.bands, self.rows)
        return np.array([key64(f"{i}:" + rows[i].tobytes().hex()) for i in range(self.bands)], dtype=np.uint64)
