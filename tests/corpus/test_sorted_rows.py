"""Slices of sorted row files by plain reads: the same slices as a full load, without mapped pages."""
from __future__ import annotations

import resource

import numpy as np
import pytest

from norlm.corpus.dedup import DuplicateFiles, position, save_pairs, save_sorted_keys
from norlm.corpus.sorted_rows import SortedRows


def test_between_equals_a_mask_on_the_loaded_rows(tmp_path):
    rng = np.random.default_rng(4)
    keys = rng.integers(0, np.iinfo(np.uint64).max, 5000, dtype=np.uint64, endpoint=True)
    keys[:50] = keys[50:100]  # repeated keys at the slice edges
    save_sorted_keys(tmp_path / "k.npy", keys, np.arange(5000))
    full = np.load(tmp_path / "k.npy")
    rows = SortedRows.open(tmp_path / "k.npy")
    cuts = sorted(int(x) for x in full[0, [0, 17, 50, 2500, 4999]]) + [0, (1 << 64) - 1]
    for low in cuts:
        for high in cuts + [None]:
            if high is not None and high < low:
                continue
            first, second = rows.between(low, high)
            mask = (full[0] >= np.uint64(low)) & (True if high is None else full[0] < np.uint64(high))
            assert np.array_equal(first, full[0][mask]) and np.array_equal(second, full[1][mask])


def test_signed_pair_files_and_version_2_headers(tmp_path):
    dup = position(3, np.arange(10))
    save_pairs(tmp_path / "p.npy", dup, dup - 1)
    rows = SortedRows.open(tmp_path / "p.npy")
    assert rows.signed and rows.n == 10
    first, second = rows.between(3 << 32, 4 << 32)
    assert first.tolist() == dup.tolist() and second.dtype == np.int64
    with open(tmp_path / "v2.npy", "wb") as fh:
        np.lib.format.write_array(fh, np.load(tmp_path / "p.npy"), version=(2, 0))
    assert SortedRows.open(tmp_path / "v2.npy").between(3 << 32, None)[0].tolist() == dup.tolist()


def test_a_file_of_another_shape_is_refused(tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((3, 4), dtype=np.uint64))
    with pytest.raises(ValueError, match="bad.npy: not a \\(2, n\\) 64-bit row file"):
        SortedRows.open(tmp_path / "bad.npy")


def test_lookups_over_many_files_do_not_grow_the_process(tmp_path):
    """Step 3 keeps every bucket's pair file open for a whole source.  Through memory maps, the
    pages each binary search faulted in (and their neighbours) stayed resident: ~60 MB here."""
    paths = []
    for b in range(64):
        dup = np.concatenate([position(np.arange(100), b), position(1000, np.arange(400_000))])  # 6.4 MB
        save_pairs(tmp_path / f"p{b}.npy", dup, dup)
        paths.append(tmp_path / f"p{b}.npy")
    files = DuplicateFiles(paths)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = [files.of_unit(u) for u in range(0, 100, 3)]
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert all(f == {b: u for b in range(64)} for u, f in zip(range(0, 100, 3), found))
    assert grown_mb < 8
