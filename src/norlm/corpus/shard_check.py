"""Corpus shards against the record the corpus stage wrote (stats.json), before a long run reads them.

The corpus stage records every shard's name, size and sha256 in `corpus/stats.json`.  A reader
that trains for weeks (elmo-train) checks them at start-up: a shard cut short by an interrupted
copy or a full quota is refused there, naming the file, instead of surfacing when the reader
reaches it.  The default check is one stat per shard; `full` also hashes every byte.
`DamagedShardError` is what a reader raises when the damage is met while reading.
"""
from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

from norlm.errors import StageError

# what Python's gzip raises for a cut or corrupted stream
GZIP_DAMAGE = (EOFError, gzip.BadGzipFile, zlib.error)


class DamagedShardError(StageError):
    """A corpus shard that cannot be read to its end (exit 2); the message names the file."""


def damaged(path: str | Path, exc: BaseException, line: int | None = None) -> DamagedShardError:
    """The error to raise for a gzip failure met while reading a shard."""
    where = f"{path}:{line}" if line else str(path)
    return DamagedShardError(f"{where}: damaged corpus shard ({type(exc).__name__}: {exc}); "
                             "rebuild it with `norlm corpus --force` or copy it again")


def recorded_shards(stats_path: Path) -> dict[str, dict]:
    """file name -> {bytes, sha256, ...} from corpus/stats.json (empty if it lists none)."""
    try:
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StageError(f"{stats_path}: unreadable corpus record ({exc})") from None
    return {s["file"]: s for src in stats.get("sources", {}).values() for s in src.get("shards", [])
            if isinstance(s, dict) and "file" in s}


def shard_problems(shards: list[Path], full: bool = False) -> list[str]:
    """What is wrong with shards against the stats.json of their folder; [] when there is no record."""
    from norlm.files import recorded_file_problem

    problems = []
    by_folder: dict[Path, dict[str, dict]] = {}
    for path in shards:
        stats_path = path.parent / "stats.json"
        if stats_path not in by_folder:
            by_folder[stats_path] = recorded_shards(stats_path) if stats_path.is_file() else {}
        entry = by_folder[stats_path].get(path.name)
        if entry is None or "bytes" not in entry:
            continue  # a folder of shards the corpus stage did not write (or an older record)
        problem = recorded_file_problem(path, entry, str(stats_path), full)
        if problem:
            problems.append(problem)
    for stats_path, entries in by_folder.items():
        present = {p.name for p in shards if p.parent / "stats.json" == stats_path}
        problems += [f"{stats_path.parent / name}: listed in {stats_path} but missing"
                     for name in sorted(set(entries) - present)]
    return problems


def check_shards(shards: list[Path], full: bool = False) -> str:
    """Refuse (StageError naming the files) when shards do not match their record; returns a note."""
    problems = shard_problems(shards, full)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise DamagedShardError(f"{len(problems)} corpus shard(s) do not match the corpus record: {shown}; "
                                "rebuild with `norlm corpus --force` or copy them again")
    return f"{len(shards)} shard(s), {'sizes and sha256' if full else 'sizes'} checked"
