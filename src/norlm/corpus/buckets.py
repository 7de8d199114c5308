"""Step 2 of the corpus stage: duplicate sentences and documents, one hash bucket at a time.

A bucket job reads its slice of every unit's sorted key file (plain reads), so its memory is
bounded by `corpus.dedup_max_entries` keys whatever the corpus size, and writes the bucket's
(duplicate, first) position pairs to parts/dups/.  The folder carries a stamp of the inputs and
settings: a rerun with the same stamp keeps the buckets already solved (resume after kill -9).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from norlm.corpus.dedup import bucket_bits, bucket_slice, later_occurrences, position, save_pairs
from norlm.corpus.sorted_rows import SortedRows


def _cat(xs: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(xs) if xs else np.zeros(0, dtype=dtype)


def dedup_bucket(bucket: int, bits: int, key_files: list[tuple[int, str, str]]):
    """(line dups, their firsts, doc dups, their firsts) of one bucket, as global positions."""
    lk, lp, dk, dp = [], [], [], []
    for g, lines, docs in key_files:
        keys, idx = bucket_slice(SortedRows.open(lines), bucket, bits)
        lk.append(keys)
        lp.append(position(g, idx))
        keys, idx = bucket_slice(SortedRows.open(docs), bucket, bits)
        dk.append(keys)
        dp.append(position(g, idx))
    line_dup, line_first = later_occurrences(_cat(lk, np.uint64), _cat(lp, np.int64))
    doc_dup, doc_first = later_occurrences(_cat(dk, np.uint64), _cat(dp, np.int64))
    return line_dup, line_first, doc_dup, doc_first


def solve_bucket(job: tuple) -> bool:
    """Worker entry point: solve one bucket unless a finished result is there; True if reused."""
    bucket, bits, key_files, dup_dir, name, force = job
    lines, docs = Path(dup_dir) / f"lines-{name}.npy", Path(dup_dir) / f"docs-{name}.npy"
    if not force and lines.is_file() and docs.is_file():
        return True
    line_dup, line_first, doc_dup, doc_first = dedup_bucket(bucket, bits, key_files)
    save_pairs(docs, doc_dup, doc_first)
    save_pairs(lines, line_dup, line_first)  # written last: its presence marks the bucket done
    return False


def bucket_names(total_keys: int, max_entries: int) -> tuple[int, list[str]]:
    bits = bucket_bits(total_keys, max_entries)
    return bits, [f"{bits:02d}-{b:05d}" for b in range(1 << bits)]


def prepare_dir(dup_dir: Path, fingerprint: str, bits: int) -> None:
    """Keep solved buckets only when they belong to these inputs and settings (root rank only)."""
    stamp = hashlib.sha256(f"{fingerprint}:{bits}".encode()).hexdigest()
    path = dup_dir / "stamp.txt"
    if path.is_file() and path.read_text().strip() == stamp:
        return
    dup_dir.mkdir(parents=True, exist_ok=True)
    for old in dup_dir.glob("*.npy"):
        old.unlink()
    path.write_text(stamp + "\n")
