"""What bert-train's start-up check of the TFRecord files costs: sizes (the default) against sizes
and sha256 (`--verify-data sha256`), on generated files in a temporary folder.

    .venv/bin/python bench/storage_checks.py [--gb 1.0] [--files 16]

Baseline: the size check (one stat per file).  Prints seconds for each, the ratio, and both
extrapolated to the paper's phase-1 records (215 GB in 2,000 files).  The page cache holds the
files after writing, so the sha256 figure is the CPU cost; a cold network file system adds its
read time on top.  Also prints sha256's rate against bert-data's output rate from
norlm/scale_rates.json: the cost of recording each file's sha256 while building.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from norlm.bert.data.manifest import PretrainingManifest, VocabRecord, describe_file, file_problems
from norlm.scale_rates import load_rates

PAPER_GB, PAPER_FILES = 215.0, 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="total size of the generated files")
    parser.add_argument("--files", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/tmp")) as tmp:
        folder = Path(tmp)
        size = int(args.gb * 1e9 / args.files)
        paths = []
        for i in range(args.files):
            path = folder / f"{i:04d}.tfrecord"
            path.write_bytes(os.urandom(size))
            paths.append(path)
        started = time.perf_counter()
        entries = tuple(describe_file(p, 0) for p in paths)
        describe_s = time.perf_counter() - started
        manifest = PretrainingManifest(phase=1, instances=0, max_seq_length=128, max_predictions_per_seq=20,
                                       vocab=VocabRecord("v", "0", 1), files=entries)
        files = [str(p) for p in paths]
        timings = {}
        for name, full in (("sizes", False), ("sizes+sha256", True)):
            started = time.perf_counter()
            assert file_problems(manifest, folder, files, full=full) == []
            timings[name] = time.perf_counter() - started
    gb = size * args.files / 1e9
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{args.files} files, {gb:.2f} GB")
    for name, seconds in timings.items():
        per_file = seconds / args.files
        paper = per_file * PAPER_FILES if name == "sizes" else seconds / gb * PAPER_GB
        print(f"  {name:13s} {seconds:9.4f} s  ({paper:8.2f} s for {PAPER_GB:.0f} GB in {PAPER_FILES} files)")
    print(f"  ratio sha256/sizes: {timings['sizes+sha256'] / max(timings['sizes'], 1e-9):,.0f}x")
    rate = load_rates().get("bert-data-phase1")
    sha_mb_s = gb * 1e3 / describe_s
    print(f"  sha256 while building: {sha_mb_s:.0f} MB/s on one core", end="")
    if rate is not None:
        out_mb_s = rate.mb_per_cpu_s * rate.out_bytes_per_in_byte
        print(f"; bert-data writes {out_mb_s:.1f} MB/s per core ({rate.basis}): "
              f"+{100 * out_mb_s / sha_mb_s:.1f} % CPU")
    else:
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
