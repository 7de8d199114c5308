"""Reading corpus shards as word-tokenised sentences, with the one tokeniser ELMo uses everywhere.

Tokeniser (deterministic, UDPipe-like granularity): a token is a number with inner separators
(``1,5`` ``10.000`` ``12:30``), a word with inner hyphens or apostrophes (``Nord-Norge``,
``o'clock``), or any single other non-space character (punctuation, symbols).  Already tokenised
text (the bundled Wikipedia sample) passes through unchanged apart from these rules.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

_TOKEN = re.compile(r"\d+(?:[.,:]\d+)+|\w+(?:[-'’]\w+)*|[^\w\s]")


def tokenize(line: str) -> list[str]:
    """Split one sentence into words (see module docstring for the rules)."""
    return _TOKEN.findall(line)


@dataclass
class ReadStats:
    """What reading skipped: undecodable lines, with the first few places named."""

    lines: int = 0
    sentences: int = 0
    documents: int = 0
    skipped: int = 0
    examples: list[str] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.examples) < 5:
            self.examples.append(f"{where}: {why}")


def read_sentences(path: str | os.PathLike, stats: ReadStats | None = None) -> Iterator[list[str]]:
    """Yield the tokenised sentences of one shard (one sentence per line; blank lines end documents).

    A shard cut short or corrupted is a DamagedShardError naming the file and line, not a gzip traceback.
    """
    import gzip

    from norlm.corpus.shard_check import GZIP_DAMAGE, damaged

    stats = stats if stats is not None else ReadStats()
    path = str(path)
    opener = gzip.open if path.endswith(".gz") else open
    in_doc = False
    lineno = 0
    with opener(path, "rb") as fh:
        lines = enumerate(fh, 1)
        while True:
            try:
                lineno, raw = next(lines)
            except StopIteration:
                break
            except GZIP_DAMAGE as exc:
                raise damaged(path, exc, lineno + 1) from None
            stats.lines += 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                stats.skip(f"{path}:{lineno}", f"not UTF-8 ({exc.reason} at byte {exc.start})")
                continue
            words = tokenize(line)
            if not words:
                if in_doc:
                    stats.documents += 1
                in_doc = False
                continue
            in_doc = True
            stats.sentences += 1
            yield words
    if in_doc:
        stats.documents += 1


def corpus_shards(corpus_dir: str | os.PathLike) -> list[Path]:
    """The corpus shards (`*.txt.gz` and `*.txt`) of a folder, sorted by name."""
    pattern = [glob.glob(os.path.join(str(corpus_dir), ext)) for ext in ("*.txt.gz", "*.txt")]
    return sorted(Path(p) for group in pattern for p in group)
