"""Reading raw input files without ever crashing on them.

Every problem (invalid bytes, NUL bytes, overlong lines, a truncated archive, an empty file) is
recorded in an `Issues` tally with the file and line, the offending record is skipped, and the
reader carries on.  The tally ends up in stats.json and on stderr.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Iterator

from norlm.corpus.text import DecodeError, decode
from norlm.errors import warn

NUL = b"\x00"
MAX_EXAMPLES = 10  # messages kept per reason (all are counted)
_READ_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)


@dataclass
class Issues:
    """Counted problems of one unit of input, with the first messages of each kind."""

    counts: Counter = field(default_factory=Counter)  # bad input, by reason
    dropped: Counter = field(default_factory=Counter)  # records filtered out on purpose, by reason
    info: Counter = field(default_factory=Counter)  # neither error nor drop (e.g. Latin-1 fallback lines)
    messages: list[str] = field(default_factory=list)
    echo: bool = True  # print each kept message to stderr as it happens

    def drop(self, reason: str, n: int = 1) -> None:
        """Count records removed by a filter (no message: these are not errors)."""
        self.dropped[reason] += n

    def add(self, reason: str, path: str, line: int | None, detail: str = "") -> None:
        self.counts[reason] += 1
        if self.counts[reason] <= MAX_EXAMPLES:
            where = f"{path}:{line}" if line is not None else path
            msg = f"{where}: {reason}" + (f": {detail}" if detail else "")
            self.messages.append(msg)
            if self.echo:
                warn(f"skipped {msg}")


def open_binary(path: str) -> IO[bytes]:
    """Open a file for reading bytes, decompressing .gz / .bz2 / .xz by name."""
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".bz2"):
        return bz2.open(path, "rb")
    if path.endswith(".xz"):
        return lzma.open(path, "rb")
    return open(path, "rb")


def read_lines(path: str, issues: Issues, encoding: str = "utf-8", max_bytes: int = 1_000_000,
               fh: IO[bytes] | None = None) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without newline) of a file, skipping bad lines.

    Lines longer than `max_bytes` are skipped without being held in memory; lines with NUL bytes
    or bytes invalid in `encoding` are skipped; a truncated or corrupt compressed file ends the
    file early.  Every skip is recorded in `issues`.
    """
    own = fh is None
    try:
        fh = open_binary(path) if own else fh
    except OSError as exc:
        issues.add("unreadable-file", path, None, str(exc))
        return
    lineno = 0
    seen_bytes = False
    try:
        while True:
            try:
                raw = fh.readline(max_bytes + 1)
            except _READ_ERRORS as exc:
                issues.add("truncated-file", path, lineno + 1, f"{type(exc).__name__}: {exc}")
                return
            if not raw:
                break
            seen_bytes = True
            lineno += 1
            if len(raw) > max_bytes and not raw.endswith(b"\n"):
                size = len(raw)
                try:
                    while raw and not raw.endswith(b"\n"):
                        raw = fh.readline(max_bytes)
                        size += len(raw)
                except _READ_ERRORS as exc:
                    issues.add("truncated-file", path, lineno, f"{type(exc).__name__}: {exc}")
                    return
                issues.add("line-too-long", path, lineno, f"{size} bytes > max_line_bytes={max_bytes}")
                continue
            raw = raw.rstrip(b"\r\n")
            if NUL in raw:
                issues.add("nul-bytes", path, lineno, f"{raw.count(NUL)} NUL bytes")
                continue
            try:
                text, fell_back = decode(raw, encoding)
            except DecodeError as exc:
                issues.add("invalid-encoding", path, lineno, str(exc))
                continue
            if fell_back:
                issues.info["decoded-as-latin-1"] += 1
            yield lineno, text
    finally:
        if own:
            fh.close()
    if not seen_bytes:
        issues.add("empty-file", path, None, "no bytes to read")
