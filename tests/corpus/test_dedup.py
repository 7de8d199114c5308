"""Dedup keys and the bucketed first-occurrence pass: bounded memory without changing the answer."""
from __future__ import annotations

import numpy as np

from norlm.corpus.dedup import (DuplicateFiles, MinHasher, bucket_bits, bucket_of, bucket_slice, key64,
                                later_occurrences, position, save_pairs, save_sorted_keys)
from norlm.corpus.sorted_rows import SortedRows
from norlm.corpus.text import dedup_key


def test_later_occurrences_marks_all_but_the_earliest_position():
    keys = np.array([7, 3, 7, 3, 9, 7], dtype=np.uint64)
    pos = np.array([50, 10, 20, 40, 30, 5], dtype=np.int64)  # unsorted on purpose
    dup, first = later_occurrences(keys, pos)
    assert sorted(zip(dup.tolist(), first.tolist())) == [(20, 5), (40, 10), (50, 5)]


def test_bucketed_pass_equals_one_pass():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**64 - 1, size=500, dtype=np.uint64)[rng.integers(0, 200, size=3000)]
    pos = np.arange(3000, dtype=np.int64)
    whole = sorted(zip(*[a.tolist() for a in later_occurrences(keys, pos)]))
    bits = bucket_bits(3000, 400)
    assert bits == 3
    parts = []
    for b in range(1 << bits):
        m = bucket_of(keys, bits) == b
        parts.extend(zip(*[a.tolist() for a in later_occurrences(keys[m], pos[m])]))
    assert sorted(parts) == whole and len(whole) == 3000 - len(set(keys.tolist()))


def test_positions_and_duplicate_lookup_per_unit(tmp_path):
    dup = np.concatenate([position(2, [4, 1]), position(0, [3])])
    first = np.concatenate([position(0, [0, 2]), position(0, [1])])
    save_pairs(tmp_path / "a.npy", dup[:2], first[:2])
    save_pairs(tmp_path / "b.npy", dup[2:], first[2:])
    save_pairs(tmp_path / "empty.npy", dup[:0], first[:0])
    d = DuplicateFiles([tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "empty.npy"])
    assert d.of_unit(2) == {1: 0, 4: 0} and d.of_unit(0) == {3: 0} and d.of_unit(1) == {}


def test_sorted_key_files_give_each_bucket_its_slice(tmp_path):
    """A bucket read from a unit's sorted key file holds exactly that bucket's keys."""
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 2**64 - 1, size=1000, dtype=np.uint64)
    idx = np.arange(1000, dtype=np.int64)
    save_sorted_keys(tmp_path / "k.npy", keys, idx)
    rows = SortedRows.open(tmp_path / "k.npy")
    assert (rows.n, rows.signed) == (1000, False)
    bits = 3
    seen = []
    for b in range(1 << bits):
        k, i = bucket_slice(rows, b, bits)
        assert np.all(bucket_of(k, bits) == b) and np.array_equal(keys[i], k)
        seen.extend(i.tolist())
    assert sorted(seen) == list(range(1000))
    save_sorted_keys(tmp_path / "e.npy", keys[:0], idx[:0])
    k, i = bucket_slice(SortedRows.open(tmp_path / "e.npy"), 0, 0)
    assert k.size == 0 and i.size == 0


def test_dedup_key_is_case_and_space_insensitive():
    assert key64(dedup_key("Oslo  er HOVEDSTADEN i Norge.")) == key64(dedup_key("oslo er hovedstaden i norge."))
    assert key64(dedup_key("Oslo er hovedstaden i Norge.")) != key64(dedup_key("Oslo er hovedstaden i Norge!"))
    assert 0 <= key64("x") < 2**64


def test_minhash_bands_collide_for_near_duplicates_only():
    h = MinHasher(bands=16, rows=8, shingle=5, seed=1)
    words = [f"ord{i}" for i in range(200)]
    a = h.band_keys([" ".join(words)])
    b = h.band_keys([" ".join(words[:-1] + ["annet"])])  # Jaccard ~ 0.98
    c = h.band_keys([" ".join(reversed(words))])  # no shared 5-gram
    assert a.shape == (16,) and a.dtype == np.uint64
    assert len(set(a.tolist()) & set(b.tolist())) >= 8
    assert not set(a.tolist()) & set(c.tolist())
    assert np.array_equal(a, MinHasher(16, 8, 5, seed=1).band_keys([" ".join(words)]))  # seeded
