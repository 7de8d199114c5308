"""Preprocessing under MPI writes exactly the files one process writes.

`bert-data` has its own 2-rank byte-for-byte test (tests/bert_data/test_stage.py::
test_two_mpi_ranks_write_the_same_files) and `corpus` too (tests/corpus/test_stage.py); this module
covers `elmo-vocab`, whose ranks count disjoint shards and merge the counts on rank 0.
"""
from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, mpirun_cmd, norlm_env, run_norlm

WORDS = "hus bil båt fjell skog elv sjø by vei tog fly natt dag sol regn snø".split()


def _corpus(folder: Path, shards: int = 5) -> Path:
    """Shards of generated sentences; shards 0, 1, 2 and 4 each hold undecodable lines (skipped, reported)."""
    folder.mkdir(parents=True)
    for s in range(shards):
        lines = []
        for d in range(6):
            for k in range(4):
                lines.append(" ".join(WORDS[(s * 7 + d * 3 + k * i) % len(WORDS)] for i in range(3 + k)) + " .")
            lines.append("")
        raw = "\n".join(lines).encode()
        if s != 3:
            raw += b"\nbad \xff line %d\nbad \xfe again\n" % s
        with gzip.open(folder / f"text-{s:04d}.txt.gz", "wb") as fh:
            fh.write(raw)
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ("vocab.txt", "counts.json")}


def test_elmo_vocab_under_mpirun_equals_one_process(tmp_path):
    corpus = _corpus(tmp_path / "corpus")
    one, two = tmp_path / "one", tmp_path / "two"
    args = ["elmo-vocab", "--config", "smoke", "--corpus", str(corpus)]
    run_norlm(*args, "--out", str(one), work=tmp_path / "w")
    proc = subprocess.run(mpirun_cmd(2) + [sys.executable, "-m", "norlm", *args, "--out", str(two)], cwd=REPO,
                          env=norlm_env(tmp_path / "w", PYTHONPATH=str(REPO / "src")), capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reference = _files(one)
    assert reference["vocab.txt"].decode().split("\n")[:4] == ["<S>", "</S>", "<UNK>", "."]
    assert b'"skipped_lines": 8' in reference["counts.json"]
    assert _files(two) == reference
