"""Exact and near-duplicate removal with bounded memory and a result independent of parallelism.

Every candidate record (a sentence of >= 5 words, or a document's MinHash-LSH band) gets a 64-bit
key and a global position (unit number << 32 | index within the unit).  A record is a duplicate
when an earlier position holds the same key.  Keys are partitioned into 2^k buckets by their top
bits and each bucket is solved on its own (sort by key, then position), so memory is bounded by the
largest bucket however large the corpus, and buckets can be spread over MPI ranks.  The outcome
depends only on the input order, never on how many workers or ranks computed it.

On disk every unit keeps its keys sorted (`save_sorted_keys`), and every bucket its duplicate pairs
sorted by position, both as .npy files read by slices (`sorted_rows.SortedRows`, plain reads, no
memory maps): a bucket reads only its slice of each unit, and the shard writer only the slice of
its unit, so no process holds all keys or all duplicates of the corpus.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Iterable

import numpy as np

from norlm.corpus.sorted_rows import SortedRows
from norlm.files import atomic_open

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
    """MinHash signatures of word shingles, cut into LSH bands (one 64-bit key per band).

    Permutation i of a shingle's 64-bit key x is SplitMix64's finaliser applied to x XOR seed_i: a
    strong mixer, so two documents agree on a permutation's minimum with probability close to their
    Jaccard similarity.  (A linear (a*x + b) mod p family on 32-bit keys agreed on only ~55 % of the
    permutations of two documents with Jaccard 0.94, and missed such near duplicates.)
    """

    def __init__(self, bands: int, rows: int, shingle: int, seed: int):
        rng = np.random.default_rng(seed)
        self.bands, self.rows, self.shingle = bands, rows, shingle
        self.seeds = rng.integers(0, np.iinfo(np.uint64).max, size=bands * rows, dtype=np.uint64, endpoint=True)

    def band_keys(self, sentences: Iterable[str]) -> np.ndarray:
        words = " ".join(sentences).casefold().split()
        n = self.shingle
        grams = {" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}
        hashes = np.array([key64(g) for g in sorted(grams)], dtype=np.uint64)
        sig = _mix64(hashes[:, None] ^ self.seeds[None, :]).min(axis=0)
        rows = sig.reshape(self.bands, self.rows)
        return np.array([key64(f"{i}:" + rows[i].tobytes().hex()) for i in range(self.bands)], dtype=np.uint64)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (uint64 arithmetic wraps, as intended)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def save_sorted_keys(path: Path, keys: np.ndarray, index: np.ndarray) -> None:
    """A unit's keys and their record indices as one (2, n) uint64 array, sorted by key."""
    order = np.argsort(keys, kind="stable")
    with atomic_open(path, "wb") as fh:
        np.save(fh, np.stack([keys[order], index[order].astype(np.uint64)]).astype(np.uint64))


def bucket_slice(rows: SortedRows, bucket: int, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys, record indices) of one bucket, from a unit's sorted key rows."""
    if bits == 0:
        keys, index = rows.between(0, None)
    else:
        high = (bucket + 1) << (64 - bits) if bucket + 1 < (1 << bits) else None
        keys, index = rows.between(bucket << (64 - bits), high)
    return keys, index.astype(np.int64)


def save_pairs(path: Path, dup: np.ndarray, first: np.ndarray) -> None:
    """A bucket's (duplicate position, first position) pairs, sorted by duplicate position."""
    order = np.argsort(dup, kind="stable")
    with atomic_open(path, "wb") as fh:
        np.save(fh, np.stack([dup[order], first[order]]).astype(np.int64))


class DuplicateFiles:
    """The duplicates of one unit at a time, looked up in every bucket's pair file (plain reads)."""

    def __init__(self, paths: list[Path]):
        self.rows = [SortedRows.open(p) for p in paths]

    def of_unit(self, unit: int) -> dict[int, int]:
        """index within the unit -> global unit number of the first occurrence."""
        out: dict[int, int] = {}
        for rows in self.rows:
            dup, first = rows.between(unit << 32, (unit + 1) << 32)
            if len(dup):
                out.update(zip((dup & 0xFFFFFFFF).tolist(), (first >> 32).tolist()))
        return out
