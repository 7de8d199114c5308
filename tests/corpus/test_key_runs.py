"""A unit's keys spilled in runs and merged: the same file as one sort, in bounded memory."""
from __future__ import annotations

import numpy as np

from norlm.corpus.dedup import save_sorted_keys
from norlm.corpus.key_runs import SortedKeyFile, _ranges


def load_rows(path):
    return np.load(path)


def _keys(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, np.iinfo(np.uint64).max, n, dtype=np.uint64, endpoint=True)
    keys[rng.integers(0, n, n // 5)] = keys[rng.integers(0, n, n // 5)]  # repeated keys: ties
    keys[:7] = [0, 0, np.iinfo(np.uint64).max, np.iinfo(np.uint64).max, 1 << 52, (1 << 52) - 1, 5]
    return keys


def test_runs_merge_to_the_bytes_of_one_sort(tmp_path):
    keys = _keys(25_013, 3)
    index = np.arange(len(keys), dtype=np.int64) * 3
    save_sorted_keys(tmp_path / "one.npy", keys, index)
    writer = SortedKeyFile(tmp_path / "runs.npy", run_entries=997)
    for k, i in zip(keys.tolist(), index.tolist()):
        writer.add(k, i)
    assert len(writer.runs) == 25  # 25_013 // 997 runs spilled while adding
    assert writer.close() == len(keys)
    assert (tmp_path / "runs.npy").read_bytes() == (tmp_path / "one.npy").read_bytes()
    rows = load_rows(tmp_path / "runs.npy")
    assert rows.shape == (2, 25_013) and np.all(np.diff(rows[0].astype(np.float64)) >= 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.npy", "runs.npy"]  # runs removed


def test_document_bands_share_their_record_index(tmp_path):
    writer = SortedKeyFile(tmp_path / "d.npy", run_entries=4)
    writer.extend(np.array([9, 3, 7], dtype=np.uint64), 0)
    writer.extend(np.array([3, 1], dtype=np.uint64), 1)
    writer.close()
    rows = load_rows(tmp_path / "d.npy")
    assert rows[0].tolist() == [1, 3, 3, 7, 9]
    assert rows[1].tolist() == [1, 0, 1, 0, 0]  # equal keys keep record order across runs


def test_small_and_empty_units_write_without_runs(tmp_path):
    writer = SortedKeyFile(tmp_path / "e.npy", run_entries=10)
    assert writer.close() == 0 and load_rows(tmp_path / "e.npy").shape == (2, 0)
    writer = SortedKeyFile(tmp_path / "s.npy", run_entries=10)
    writer.add(5, 0)
    writer.add(2, 1)
    writer.close()
    assert load_rows(tmp_path / "s.npy").tolist() == [[2, 5], [1, 0]]


def test_a_killed_writers_runs_are_removed_by_the_next(tmp_path):
    stale = tmp_path / ".u.npy.run-00003.npy"
    stale.write_bytes(b"left by kill -9")
    writer = SortedKeyFile(tmp_path / "u.npy", run_entries=2)
    assert not stale.exists()
    for k in (4, 3, 2, 1, 0):
        writer.add(k, 10 - k)
    writer.close()
    assert load_rows(tmp_path / "u.npy").tolist() == [[0, 1, 2, 3, 4], [10, 9, 8, 7, 6]]


def test_merge_ranges_hold_about_the_bound(tmp_path):
    writer = SortedKeyFile(tmp_path / "r.npy", run_entries=1000)
    for k in _keys(20_000, 5).tolist():
        writer.add(k, 0)
    sizes = [sum(int(r.cells[b] - r.cells[a]) for r in writer.runs) for a, b in _ranges(writer.runs, 1000)]
    assert sum(sizes) == 20_000
    assert max(sizes) <= 1000 + 20  # one 4,096th of the keys (~5) may tip a range over
    assert len(sizes) <= 25
    writer.close()
