"""Streaming the corpus shards (one sentence per line, blank line between documents) for training.

Shards can be far larger than memory at full scale, so lines are yielded one at a time.  A line
that is not valid UTF-8 is reported with its file and line number, counted and skipped.
"""
from __future__ import annotations

import gzip
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator


from norlm.errors import StageError, warn

class CorpusError(StageError, RuntimeError):
    """The corpus cannot be used (missing, empty); the message says what to do."""


@dataclass
class ReadStats:
    """What one pass over the shards saw."""

    files: int = 0
    lines: int = 0  # non-empty lines yielded
    documents: int = 0
    characters: int = 0
    skipped: int = 0  # lines that were not valid UTF-8
    skipped_examples: list[str] = field(default_factory=list)


def find_shards(corpus_dir: str | os.PathLike) -> list[Path]:
    """The corpus stage's shards, in a fixed order (`*.txt.gz`, also plain `*.txt`)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"{corpus_dir}: corpus folder not found (run `make corpus` / `norlm corpus` first)")
    shards = sorted(p for p in corpus_dir.iterdir()
                    if p.is_file() and (p.name.endswith(".txt.gz") or p.name.endswith(".txt")))
    if not shards:
        raise CorpusError(f"{corpus_dir}: no corpus shards (*.txt.gz) found (run `make corpus` first)")
    return shards


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def iter_lines(shards: list[Path], stats: ReadStats, max_lines: int = 0, warn_limit: int = 10) -> Iterator[str]:
    """Yield every non-empty line (stripped) of the shards in order, filling `stats` as it goes."""
    for path in shards:
        stats.files += 1
        in_document = False
        with _open_binary(path) as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    line = raw.decode("utf-8").strip()
                except UnicodeDecodeError as exc:
                    stats.skipped += 1
                    where = f"{path}:{number}: not valid UTF-8 ({exc.reason}); line skipped"
                    if len(stats.skipped_examples) < warn_limit:
                        stats.skipped_examples.append(where)
                        warn(where)
                    continue
                if not line:
                    in_document = False
                    continue
                if not in_document:
                    stats.documents += 1
                    in_document = True
                stats.lines += 1
                stats.characters += len(line)
                yield line
                if max_lines and stats.lines >= max_lines:
                    return


def choose_alphabet(char_counts: Counter, coverage: float, limit: int, always: str = "") -> list[str]:
    """The alphabet, sorted: the characters of `always` first, then the most frequent others until
    together they cover `coverage` of all characters, `limit` characters at most.

    Whitespace and control characters are left out: BERT's normalizer removes or splits on them.
    """
    import unicodedata

    def usable(ch: str) -> bool:
        return not ch.isspace() and not unicodedata.category(ch).startswith("C")

    chosen = list(dict.fromkeys(ch for ch in always if usable(ch)))[:limit]
    covered = sum(char_counts.get(ch, 0) for ch in chosen)
    total = sum(n for ch, n in char_counts.items() if usable(ch))
    rest = sorted(((n, ch) for ch, n in char_counts.items() if usable(ch) and ch not in set(chosen)),
                  key=lambda item: (-item[0], item[1]))
    for n, ch in rest:
        if len(chosen) >= limit or covered >= coverage * total:
            break
        chosen.append(ch)
        covered += n
    return sorted(chosen)
