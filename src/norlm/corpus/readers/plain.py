"""Plain text: one document per line, or documents separated by blank lines.

Also reads the bundled Wikipedia samples, which are space-tokenised with one article per line
(`detokenize = true` restores normal spacing before punctuation).
"""
from __future__ import annotations

from typing import Iterator

from norlm.corpus.inputs import Issues, read_lines
from norlm.corpus.readers import Doc, Unit
from norlm.corpus.text import clean, detokenize


def read(unit: Unit, source, cfg, issues: Issues) -> Iterator[Doc]:
    encoding = source.encoding or "utf-8"
    for path in unit.files:
        parts: list[str] = []
        for _, line in read_lines(path, issues, encoding, cfg.max_line_bytes):
            text = clean(line)
            if text and source.detokenize:
                text = detokenize(text.split(" "))
            if source.docs == "line":
                if text:
                    yield Doc([text], sentences=not source.segment)
                continue
            if text:
                parts.append(text)
            elif parts:
                yield Doc(parts, sentences=not source.segment)
                parts = []
        if parts:
            yield Doc(parts, sentences=not source.segment)
