"""Slices of a sorted (2, n) .npy file (dedup keys or duplicate pairs) read with plain file reads.

Step 2 reads one bucket's slice of every unit's key file, step 3 one unit's slice of every
bucket's pair file.  Through memory maps, each binary search faults in pages around every probe
(the kernel maps its neighbours too) and those pages count as the worker's memory until the map is
dropped: hundreds of MB once a corpus has a few hundred units.  Here a binary search reads 8 bytes
per probe with `os.pread` and a slice is read into a fresh array, so memory is the slice only.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SortedRows:
    """A (2, n) uint64 / int64 .npy whose first row is sorted ascending."""

    path: str
    n: int
    offset: int  # where the data starts
    signed: bool

    @classmethod
    def open(cls, path: str | Path) -> "SortedRows":
        with open(path, "rb") as fh:
            major, _ = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(fh)
            if len(shape) != 2 or shape[0] != 2 or fortran or dtype not in (np.dtype("<u8"), np.dtype("<i8")):
                raise ValueError(f"{path}: not a (2, n) 64-bit row file (shape {shape}, dtype {dtype})")
            return cls(str(path), int(shape[1]), fh.tell(), dtype == np.dtype("<i8"))

    def lower_bound(self, fd: int, value: int) -> int:
        """First index whose first-row value is >= value."""
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) // 2
            raw = os.pread(fd, 8, self.offset + 8 * mid)
            if int.from_bytes(raw, "little", signed=self.signed) < value:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def between(self, low: int, high: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Both rows where low <= first row < high (no upper limit when high is None)."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            a = self.lower_bound(fd, low)
            b = self.n if high is None else self.lower_bound(fd, high)
        finally:
            os.close(fd)
        dtype = np.int64 if self.signed else np.uint64
        first = np.fromfile(self.path, dtype, b - a, offset=self.offset + 8 * a)
        second = np.fromfile(self.path, dtype, b - a, offset=self.offset + 8 * (self.n + a))
        return first, second
