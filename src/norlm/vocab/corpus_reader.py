"""Streaming the corpus shards (one sentence per line, blank line between documents) for training.

Shards can be far larger than memory at full scale, so lines are yielded one at a time.  A line
that is not valid UTF-8 is reported with its file and line number, counted and skipped.

`vocab.max_lines = N` trains on a uniform seeded sample of N lines of the whole corpus (every
shard and source alike, not the first N lines, which would all come from the first source in
config order): the non-blank lines of each shard are taken from the corpus stage's stats.json
(counted in a pass over the shards only when it does not list them), the sample sizes per shard
are drawn from the multivariate hypergeometric distribution, and each shard's lines are then
chosen without replacement.  The same seed gives the same sample in every run.  A bounded sample
is read once, shard by shard in `workers` processes (`read_sample`), and held in memory
(`max_lines` lines); without a limit the shards are streamed on every pass.
"""
from __future__ import annotations

import gzip
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from norlm.corpus.shard_check import recorded_shards
from norlm.errors import StageError, warn
from norlm.worker_pool import pool_map

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


def _count_one(path: Path) -> int:
    with _open_binary(path) as fh:
        return sum(1 for raw in fh if raw.strip())


def count_lines(shards: list[Path], workers: int = 1) -> list[int]:
    """Non-blank lines of each shard (the population the sample is drawn from)."""
    return pool_map(_count_one, list(shards), workers, "vocab: counting lines")


def recorded_line_counts(shards: list[Path]) -> list[int] | None:
    """Each shard's lines as the corpus stage's stats.json records them (None unless it lists every shard)."""
    path = shards[0].parent / "stats.json" if shards else None
    if path is None or not path.is_file():
        return None
    recorded = recorded_shards(path)
    counts = [recorded.get(p.name, {}).get("sentences") for p in shards]
    return None if any(c is None for c in counts) else [int(c) for c in counts]


@dataclass
class Sample:
    """Which non-blank lines of each shard to read: all, or sorted line numbers (0-based)."""

    seed: int
    lines: int  # lines in the sample
    population: int  # non-blank lines of the corpus
    chosen: list[np.ndarray | None]  # per shard; None = every line
    counts: list[int] | None = None  # non-blank lines per shard the sample was drawn from (checked on reading)

    @property
    def bounded(self) -> bool:
        return any(c is not None for c in self.chosen)

    def describe(self, shards: list[Path]) -> dict:
        """For the vocabulary report: what the vocabulary was trained on."""
        every = all(c is None for c in self.chosen)
        return {"method": "all lines" if every else "uniform random sample of lines across all shards",
                "seed": self.seed, "lines": self.lines, "of_lines": self.population,
                "per_shard": {p.name: (None if c is None else int(c.size)) for p, c in zip(shards, self.chosen)}}


def plan_sample(shards: list[Path], max_lines: int, seed: int, workers: int = 1) -> Sample:
    """A uniform sample of `max_lines` non-blank lines over all shards (all lines when 0 or more)."""
    recorded = recorded_line_counts(shards)
    counts = recorded or count_lines(shards, workers)
    total = sum(counts)
    if not max_lines or max_lines >= total:
        return Sample(seed, total, total, [None] * len(shards), counts)
    rng = np.random.default_rng([seed, 28])
    per_shard = rng.multivariate_hypergeometric(np.array(counts, dtype=np.int64), max_lines)
    chosen = [np.sort(rng.choice(c, size=int(k), replace=False)) for c, k in zip(counts, per_shard)]
    return Sample(seed, max_lines, total, chosen, counts)


def iter_lines(shards: list[Path], stats: ReadStats, max_lines: int = 0, warn_limit: int = 10,
               sample: Sample | None = None) -> Iterator[str]:
    """Yield every non-empty line (stripped) of the shards in order, or only the lines of `sample`,
    filling `stats` as it goes (`max_lines` stops after that many lines: tests and quick looks)."""
    for s_idx, path in enumerate(shards):
        wanted = sample.chosen[s_idx] if sample is not None else None
        expected = sample.counts[s_idx] if sample is not None and sample.counts else None
        for line in shard_lines(path, stats, wanted, expected, warn_limit):
            yield line
            if max_lines and stats.lines >= max_lines:
                return


def shard_lines(path: Path, stats: ReadStats, wanted: np.ndarray | None = None, expected: int | None = None,
                warn_limit: int = 10) -> Iterator[str]:
    """One shard's lines: all, or the `wanted` non-blank line numbers.  A sampled shard whose length
    differs from the `expected` count the sample was drawn from is refused: it changed since."""
    stats.files += 1
    in_document = False
    if wanted is not None and wanted.size == 0:
        return
    keep = set(wanted.tolist()) if wanted is not None else None
    index = -1
    with _open_binary(path) as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                index += 1
                if keep is not None and index not in keep:
                    continue
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
    if wanted is not None and expected is not None and index + 1 != expected:
        raise CorpusError(f"{path}: {index + 1:,} lines, but the sample was drawn from {expected:,} (corpus "
                          "stats.json): the shard changed after `norlm corpus` wrote it; rerun it")


def _read_one(job: tuple) -> tuple[list[str], ReadStats, Counter]:
    path, wanted, expected = job
    stats = ReadStats()
    lines = list(shard_lines(path, stats, wanted, expected))
    return lines, stats, Counter("".join(lines))


def read_sample(shards: list[Path], sample: Sample, workers: int = 1) -> tuple[list[str], ReadStats, Counter]:
    """The sample's lines in shard order and their characters' counts, read once, shard by shard in
    `workers` processes (the counting too: it is as much work as the reading)."""
    lines: list[str] = []
    total = ReadStats()
    chars: Counter = Counter()
    counts = sample.counts or [None] * len(shards)
    jobs = [(p, c, n) for p, c, n in zip(shards, sample.chosen, counts)]
    for part, stats, part_chars in pool_map(_read_one, jobs, workers, "vocab: reading the sample"):
        lines.extend(part)
        chars.update(part_chars)
        for name in ("files", "lines", "documents", "characters", "skipped"):
            setattr(total, name, getattr(total, name) + getattr(stats, name))
        total.skipped_examples.extend(stats.skipped_examples[:max(0, 10 - len(total.skipped_examples))])
    return lines, total, chars


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
