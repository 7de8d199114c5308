"""Helpers for the corpus tests: run one reader, write a config, read shards back."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from norlm.corpus.inputs import Issues
from norlm.corpus.readers import reader_for
from norlm.corpus.segment import make_segmenter
from norlm.corpus.settings import CorpusConfig, SourceConfig
from norlm.corpus.units import plan

REPO = Path(__file__).resolve().parents[2]
NAK = REPO / "tests" / "fixtures" / "nak"


def read_source(source: SourceConfig, cfg: CorpusConfig | None = None) -> tuple[list[list[str]], Issues]:
    """Every document of a source as its list of sentences (Punkt for unsegmented ones)."""
    cfg = cfg or CorpusConfig()
    units, _ = plan((source,))
    issues = Issues(echo=False)
    seg = make_segmenter("punkt", source.lang)
    docs = []
    for unit in units:
        for doc in reader_for(source.kind)(unit, source, cfg, issues):
            docs.append(doc.parts if doc.sentences else seg.split(doc.parts))
    return docs, issues


def toml_sources(sources: list[dict]) -> str:
    out = []
    for src in sources:
        out.append("[[corpus.sources]]")
        out.extend(f"{k} = {json.dumps(v)}" for k, v in src.items())
        out.append("")
    return "\n".join(out)


def write_config(path: Path, sources: list[dict], corpus: str = "shard_mb = 1.0", workers: int = 1) -> Path:
    path.write_text(f'[run]\nname = "t"\nworkers = {workers}\n\n[corpus]\n{corpus}\n\n'
                    + toml_sources(sources), encoding="utf-8")
    return path


def shard_docs(corpus_dir: Path, source: str) -> list[list[str]]:
    """Documents of all shards of one source, in order."""
    docs = []
    for shard in sorted(corpus_dir.glob(f"{source}-*.txt.gz")):
        text = gzip.open(shard, "rt", encoding="utf-8").read()
        assert text.endswith("\n") and not text.endswith("\n\n"), shard
        docs.extend(block.split("\n") for block in text.rstrip("\n").split("\n\n"))
    return docs
