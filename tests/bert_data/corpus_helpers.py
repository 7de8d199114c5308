"""Small corpus shards for the bert-data tests and benchmark, made from bundled text.

NDT text is written only to temporary folders (never committed, see DEVELOPING.md).
"""
from __future__ import annotations

import gzip
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NDT_NOB = REPO / "data" / "norne" / "ndt" / "nob"
NORBERT_VOCAB = REPO / "data" / "norbert_vocab" / "norwegian_wordpiece_vocab_30k.txt"


def ndt_documents(limit_files: int | None = None) -> list[list[str]]:
    """One document per NDT Bokmål file: its sentences, tokens joined by spaces."""
    docs = []
    for path in sorted(NDT_NOB.glob("*.conll.gz"))[:limit_files]:
        sentences, words = [], []
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                line = line.rstrip("\n")
                if not line:
                    if words:
                        sentences.append(" ".join(words))
                    words = []
                elif not line.startswith("#"):
                    words.append(line.split("\t")[1])
        if words:
            sentences.append(" ".join(words))
        docs.append(sentences)
    return docs


def write_shards(docs: list[list[str]], out_dir: Path, n_shards: int, gz: bool = True) -> list[Path]:
    """Deal documents round-robin into n_shards files: one sentence per line, blank line after each document."""
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
