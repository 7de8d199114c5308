"""elmo-vocab with bounded memory: the same vocab.txt and counts.json as one Counter over the whole
corpus (the stage before spill-and-merge), with 1 and 2 workers and 2 MPI ranks; each spilled
partition holds a fraction of the types; a rerun reuses the shards already counted."""
from __future__ import annotations

import gzip
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

from norlm.elmo.text import corpus_shards
from norlm.elmo.vocab import PARTITIONS, count_shards
from norlm.elmo.vocabulary import SPECIALS, top_words
from tests.conftest import REPO, mpirun_cmd, norlm_env, run_norlm

VOCAB = 40  # small, so the cut falls among many words of equal count (ties broken alphabetically)


def _corpus(folder: Path, shards: int = 4) -> Path:
    """Zipf-distributed words (many types of count 1-3), with one undecodable line."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True)
    for s in range(shards):
        lines = []
        for d in range(40):
            for _ in range(5):
                ranks = rng.zipf(1.3, size=int(rng.integers(3, 12))) % 5000
                lines.append(" ".join(f"ord{r}" for r in ranks) + " .")
            lines.append("")
        raw = "\n".join(lines).encode() + (b"\nbad \xff line\n" if s == 1 else b"")
        with gzip.open(folder / f"text-{s:04d}.txt.gz", "wb") as fh:
            fh.write(raw)
    return folder


def _reference(corpus: Path) -> tuple[list[str], dict]:
    """What the stage wrote before spill-and-merge: one Counter over every shard."""
    counts, stats = count_shards(corpus_shards(corpus), progress=False)
    words = top_words(counts, VOCAB)
    n = sum(counts.values())
    return [*SPECIALS, *words], {"n_train_tokens": n, "types": len(counts), "sentences": stats.sentences,
                                 "documents": stats.documents, "lines": stats.lines, "skipped_lines": stats.skipped,
                                 "coverage": sum(counts[w] for w in words) / n}


def _result(out: Path) -> tuple[list[str], dict]:
    counts = json.loads((out / "counts.json").read_text())
    return (out / "vocab.txt").read_text().splitlines(), counts


def _same(out: Path, reference: tuple[list[str], dict]) -> None:
    vocab, counts = _result(out)
    assert vocab == reference[0]
    assert {k: counts[k] for k in reference[1]} == reference[1]


def test_spill_and_merge_equals_one_counter(tmp_path):
    corpus = _corpus(tmp_path / "corpus")
    reference = _reference(corpus)
    assert reference[1]["types"] > 900 and reference[1]["skipped_lines"] == 1
    args = ["elmo-vocab", "--config", "smoke", "--corpus", str(corpus), f"elmo.vocab_size={VOCAB}"]
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        run_norlm(*args, "--out", str(out), "--workers", workers, work=tmp_path / "w")
        _same(out, reference)
    spilled = [pickle.loads(p.read_bytes()) for p in (tmp_path / "w1" / "counts").glob("text-0000/*.pkl")]
    assert len(spilled) == PARTITIONS
    types0 = len(count_shards([corpus / "text-0000.txt.gz"], progress=False)[0])
    assert max(len(part) for part in spilled) < 3 * types0 / PARTITIONS  # no file (or merge) holds every type
    assert sum(len(part) for part in spilled) == types0


def test_two_mpi_ranks_equal_one_counter(tmp_path):
    corpus = _corpus(tmp_path / "corpus")
    out = tmp_path / "two"
    args = ["elmo-vocab", "--config", "smoke", "--corpus", str(corpus), f"elmo.vocab_size={VOCAB}", "--workers", "1"]
    proc = subprocess.run(mpirun_cmd(2) + [sys.executable, "-m", "norlm", *args, "--out", str(out)], cwd=REPO,
                          env=norlm_env(tmp_path / "w", PYTHONPATH=str(REPO / "src")), capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _same(out, _reference(corpus))


def test_rerun_reuses_counted_shards(tmp_path):
    corpus = _corpus(tmp_path / "corpus", shards=2)
    out = tmp_path / "out"
    args = ["elmo-vocab", "--config", "smoke", "--corpus", str(corpus), "--out", str(out), f"elmo.vocab_size={VOCAB}"]
    run_norlm(*args, work=tmp_path / "w")
    done = {p: p.stat().st_mtime_ns for p in (out / "counts").glob("*/done.json")}
    assert len(done) == 2
    (out / "counts" / "text-0001" / "done.json").unlink()  # as if killed while counting shard 1
    run_norlm(*args, work=tmp_path / "w")
    after = {p: p.stat().st_mtime_ns for p in (out / "counts").glob("*/done.json")}
    first = out / "counts" / "text-0000" / "done.json"
    assert after[first] == done[first] and len(after) == 2
    _same(out, _reference(corpus))


def test_one_partition_per_shard_on_larger_corpora(tmp_path):
    """More shards than 32: as many partitions as shards (a partition never outgrows a shard)."""
    corpus = _corpus(tmp_path / "corpus", shards=36)
    out = tmp_path / "out"
    run_norlm("elmo-vocab", "--config", "smoke", "--corpus", str(corpus), "--out", str(out),
              f"elmo.vocab_size={VOCAB}", work=tmp_path / "w")
    assert len(list((out / "counts" / "text-0000").glob("*.pkl"))) == 36
    assert len(list((out / "counts").glob("top-*.pkl"))) == 36
    _same(out, _reference(corpus))
