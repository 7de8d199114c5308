"""A unit's dedup keys sorted on disk with bounded memory, however large the unit.

Step 1 of the corpus stage gives every sentence (and every MinHash band of a document) a 64-bit
key and stores a unit's keys sorted (`dedup.save_sorted_keys`), so that a dedup bucket reads only
its slice.  Holding and sorting all keys of a unit at once costs ~60 bytes per key: for a
Wikipedia dump read as one unit (~10 M sentences per GB of text) that is most of the worker's
memory.  `SortedKeyFile` keeps at most `run_entries` keys in memory: a full buffer is sorted and
spilled as a run, and at the end the runs are merged key range by key range (keys are hashes, so
ranges are even) into the same file, byte for byte, that sorting everything at once would write.
"""
from __future__ import annotations

import shutil
import tempfile
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from norlm.corpus.dedup import save_sorted_keys
from norlm.files import atomic_open, atomic_path


CELL_BITS = 12  # a run records where each of 4,096 key cells starts, to read any key range back


@dataclass
class Run:
    """One spilled run: its file, entries, and the first entry of every key cell."""

    path: Path
    n: int
    cells: np.ndarray  # (2^CELL_BITS + 1,) offsets into the run


class SortedKeyFile:
    """Collects (key, record index) pairs in index order; `close()` writes the sorted (2, n) file."""

    def __init__(self, path: Path, run_entries: int):
        self.path = Path(path)
        self.run_entries = max(1, int(run_entries))
        self.keys, self.index = array("Q"), array("q")  # 8 bytes per entry, not a Python list
        self.runs: list[Run] = []
        for stale in self.path.parent.glob(f".{self.path.name}.run-*.npy"):  # from a killed run
            stale.unlink()

    def add(self, key: int, index: int) -> None:
        self.keys.append(key)
        self.index.append(index)
        if len(self.keys) >= self.run_entries:
            self._spill()

    def extend(self, keys, index: int) -> None:
        """Several keys of one record (a document's bands)."""
        for key in keys:
            self.add(int(key), index)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.frombuffer(self.keys, np.uint64), np.frombuffer(self.index, np.int64)

    def _spill(self) -> None:
        path = self.path.parent / f".{self.path.name}.run-{len(self.runs):05d}.npy"
        keys, index = self._arrays()
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        with atomic_open(path, "wb") as fh:
            fh.write(sorted_keys.tobytes())
            fh.write(index[order].astype(np.uint64).tobytes())
        grid = np.arange(1 << CELL_BITS, dtype=np.uint64) << np.uint64(64 - CELL_BITS)
        cells = np.append(np.searchsorted(sorted_keys, grid), len(keys))
        self.runs.append(Run(path, len(keys), cells))
        self.keys, self.index = array("Q"), array("q")

    def close(self) -> int:
        """Write the sorted file (replacing any old one); returns the number of keys."""
        if not self.runs:
            save_sorted_keys(self.path, *self._arrays())
            return len(self.keys)
        if len(self.keys):
            self._spill()
        try:
            return merge_runs(self.runs, self.path, self.run_entries)
        finally:
            for run in self.runs:
                run.path.unlink(missing_ok=True)


def _ranges(runs: list[Run], range_entries: int) -> list[tuple[int, int]]:
    """Consecutive key cells grouped so that each group holds about `range_entries` keys."""
    per_cell = sum(np.diff(r.cells) for r in runs)
    out, first, held = [], 0, 0
    for cell, n in enumerate(per_cell.tolist()):
        if held and held + n > range_entries:
            out.append((first, cell))
            first, held = cell, 0
        held += n
    out.append((first, len(per_cell)))
    return out


def merge_runs(runs: list[Run], path: Path, range_entries: int) -> int:
    """Merge sorted runs (in record order) into one sorted (2, n) .npy file, one key range at a time.

    Runs are read with plain file reads, not memory maps, so their pages do not count against the
    worker.  Within a range the runs' slices are concatenated in run order and stably sorted by key,
    so equal keys keep their record order: the file equals one stable sort of all keys.
    """
    total = sum(r.n for r in runs)
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint64)), "fortran_order": False,
              "shape": (2, total)}
    with atomic_path(path) as tmp, open(tmp, "wb") as out, tempfile.TemporaryFile(dir=path.parent) as side:
        np.lib.format.write_array_header_1_0(out, header)
        for c0, c1 in _ranges(runs, range_entries):
            keys, index = [], []
            for r in runs:
                a, b = int(r.cells[c0]), int(r.cells[c1])
                keys.append(np.fromfile(r.path, np.uint64, b - a, offset=8 * a))
                index.append(np.fromfile(r.path, np.uint64, b - a, offset=8 * (r.n + a)))
            keys_cat, index_cat = np.concatenate(keys), np.concatenate(index)
            order = np.argsort(keys_cat, kind="stable")
            out.write(keys_cat[order].tobytes())
            side.write(index_cat[order].tobytes())
        side.seek(0)
        shutil.copyfileobj(side, out, 1 << 22)
    return total
