"""Fixtures for the vocabulary tests: small corpus shards made from bundled text, Norwegian test
sentences, and one smoke-sized vocabulary per method trained once per session through the CLI."""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from norlm.conll import read_sentences
from tests.conftest import DATA, run_norlm

PUBLISHED = DATA / "norbert_vocab" / "norwegian_wordpiece_vocab_30k.txt"


def norec_sentences(split: str) -> list[str]:
    with open(DATA / "norec_sentence" / "binary" / f"{split}.csv", encoding="utf-8", newline="") as fh:
        return [row[1] for row in csv.reader(fh) if len(row) == 2]


def ud_texts(split: str = "test") -> list[str]:
    """The `# text =` line of every sentence (read by norlm.conll, the project's one CoNLL reader)."""
    return [s.meta["text"] for path in sorted((DATA / "ud27").glob(f"*/*-{split}.conllu.gz")) for s in read_sentences(path)]


def write_shard(path: Path, documents: list[list[str]]) -> Path:
    """A corpus shard: one sentence per line, a blank line after each document."""
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for doc in documents:
            fh.write("\n".join(doc) + "\n\n")
    return path


def make_corpus(folder: Path) -> Path:
    """Two shards: NoReC review sentences (punctuation, quotes, numbers) and Nynorsk Wikipedia lines."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    norec = norec_sentences("train")
    write_shard(corpus / "norec-0000.txt.gz", [norec[i:i + 8] for i in range(0, len(norec), 8)])
    with gzip.open(DATA / "wikipedia_sample" / "wikipedia_100k" / "wiki_nn.txt.gz", "rt", encoding="utf-8") as fh:
        wiki = [line.strip() for _, line in zip(range(150), fh)]
    write_shard(corpus / "wiki-nn-0000.txt.gz", [[line] for line in wiki])
    return corpus


@pytest.fixture(scope="session")
def corpus_work(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("vocab-work")
    make_corpus(work)
    return work


@pytest.fixture(scope="session")
def trained(corpus_work) -> dict:
    """`norlm vocab` with the smoke config, once per method; returns output folders and stdout."""
    out = {}
    for method in ("spbpe", "wordpiece"):
        folder = corpus_work / f"vocab-{method}"
        proc = run_norlm("vocab", "--config", "configs/smoke.toml", "--method", method, "--out", str(folder),
                         work=corpus_work)
        out[method] = {"dir": folder, "stdout": proc.stdout, "stderr": proc.stderr}
    return out
