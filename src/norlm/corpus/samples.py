"""Small corpus shards from the bundled NDT text, for the tests and the benchmarks.

Both need the same real Norwegian running text in the corpus stage's output format (one sentence
per line, a blank line after each document); NDT text is only ever written to temporary folders
(never committed, see DEVELOPING.md).
"""
from __future__ import annotations

import gzip
from pathlib import Path

from norlm.config import REPO_ROOT
from norlm.corpus.inputs import Issues
from norlm.corpus.readers.ndt import sentences

NDT_NOB = REPO_ROOT / "data" / "norne" / "ndt" / "nob"
NORBERT_VOCAB = REPO_ROOT / "data" / "norbert_vocab" / "norwegian_wordpiece_vocab_30k.txt"


def ndt_documents(limit_files: int | None = None) -> list[list[str]]:
    """One document per NDT Bokmål file: its sentences, tokens joined by spaces (no detokenising)."""
    issues = Issues(echo=False)
    return [[" ".join(tokens) for tokens in sentences(str(path), issues, 1 << 20)]
            for path in sorted(NDT_NOB.glob("*.conll.gz"))[:limit_files]]


def write_shards(docs: list[list[str]], out_dir: Path, n_shards: int, gz: bool = True) -> list[Path]:
    """Deal documents round-robin into `n_shards` files (gzip without a timestamp: same bytes every run)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in range(n_shards):
        path = out_dir / f"ndt-{s:04d}.txt{'.gz' if gz else ''}"
        text = "".join("\n".join(doc) + "\n\n" for doc in docs[s::n_shards])
        if gz:
            with gzip.GzipFile(path, "wb", mtime=0) as fh:
                fh.write(text.encode("utf-8"))
        else:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
