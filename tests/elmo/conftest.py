"""ELMo test fixtures: small corpus shards from the bundled Wikipedia sample, one smoke training run."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from tests.conftest import DATA, run_norlm


def write_shards(corpus: Path, docs_per_shard: int = 250) -> list[Path]:
    """Corpus-stage-style shards: one sentence per line, a blank line between documents."""
    corpus.mkdir(parents=True, exist_ok=True)
    paths = []
    for lang in ("no", "nn"):
        source = DATA / "wikipedia_sample" / "wikipedia_100k" / f"wiki_{lang}.txt.gz"
        with gzip.open(source, "rt", encoding="utf-8") as fh:
            docs = [d for d in fh.read().splitlines() if d.strip()]
        for k in range(0, len(docs), docs_per_shard):
            path = corpus / f"wiki_{lang}-{k // docs_per_shard:04d}.txt.gz"
            with gzip.open(path, "wt", encoding="utf-8") as out:
                for doc in docs[k:k + docs_per_shard]:
                    sentences = [s.strip() for s in re.split(r"(?<= [.!?]) ", doc) if s.strip()]
                    out.write("\n".join(sentences) + "\n\n")
            paths.append(path)
    return paths


@pytest.fixture(scope="session")
def elmo_corpus(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("elmo_corpus")
    write_shards(work / "corpus")
    return work / "corpus"


def smoke_pipeline(work: Path, corpus: Path, *overrides: str, export: bool = True) -> Path:
    """elmo-vocab, elmo-train (and elmo-export) with configs/smoke.toml in `work`."""
    if not (work / "corpus").exists():
        (work / "corpus").symlink_to(corpus)
    run_norlm("elmo-vocab", "--config", "configs/smoke.toml", *overrides, work=work)
    run_norlm("elmo-train", "--config", "configs/smoke.toml", "--no-progress", *overrides, work=work)
    if export:
        run_norlm("elmo-export", "--config", "configs/smoke.toml", *overrides, work=work)
    return work


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, elmo_corpus) -> Path:
    """One uninterrupted smoke training + export (shared by the resume, export and parity tests)."""
    return smoke_pipeline(tmp_path_factory.mktemp("elmo_smoke"), elmo_corpus)
