"""One reader per input format; each turns a unit of input files into documents.

A reader is a function `read(unit, source, cfg, issues) -> Iterator[Doc]`.  A document is a list
of paragraphs (to be sentence-segmented) or, when the format already marks sentences, a list of
sentences.  Readers clean text (NFC, control characters, whitespace) and record bad input in
`issues`; they never raise on bad data.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Iterator

_MODULES = {
    "wikipedia": "norlm.corpus.readers.wikipedia:read",
    "nak-tokens": "norlm.corpus.readers.nak:read_tokens",
    "nak-text": "norlm.corpus.readers.nak:read_text",
    "nak-xml": "norlm.corpus.readers.nak:read_xml",
    "plain": "norlm.corpus.readers.plain:read",
    "ndt": "norlm.corpus.readers.ndt:read",
}


@dataclass
class Doc:
    """One document: paragraphs to segment, or sentences when `sentences` is True."""

    parts: list[str]
    sentences: bool = False


@dataclass(frozen=True)
class Unit:
    """The files one worker reads as a whole (one file, or one NDT source group), or one byte range
    of whole bz2 streams of a multistream Wikipedia dump (`span`, see norlm.corpus.units)."""

    source: int  # index into cfg.sources
    index: int  # position within the source (output order)
    files: tuple[str, ...]
    size: int = 0  # bytes (of the span, if any), for load balancing
    span: tuple[int, int] | None = None  # [start, end) byte offsets in files[0]; None = the whole files


def reader_for(kind: str) -> Callable[..., Iterator[Doc]]:
    if kind not in _MODULES:
        raise ValueError(f"unknown corpus source kind '{kind}' (known: {', '.join(_MODULES)})")
    module, name = _MODULES[kind].split(":")
    return getattr(importlib.import_module(module), name)
