"""NDT treebank files (NorNE `ndt/*.conll`): the demo's in-domain running text.

A unit is one source group (`ap001`, `blogg-nn002`, ...) read chunk by chunk in order; a headline
(a sentence closed by the `|` token) that follows body text starts a new document, so each news
article or blog post becomes its own document.  Tokens are detokenised into normal spacing.
"""
from __future__ import annotations

from typing import Iterator

from norlm.conll import parse_lines
from norlm.corpus.inputs import Issues, read_lines
from norlm.corpus.readers import Doc, Unit
from norlm.corpus.text import clean, detokenize

HEADLINE_MARK = "|"


def sentences(path: str, issues: Issues, max_bytes: int) -> Iterator[list[str]]:
    """Token lists of a CoNLL-X file (FORM column), one per sentence; a malformed sentence is
    counted in `issues` (`malformed-conll`, with its line) and skipped."""
    def report(line: int, what: str) -> None:
        issues.add("malformed-conll", path, line, what)

    for sentence in parse_lines(read_lines(path, issues, "utf-8", max_bytes), path, "conllx", report=report):
        yield sentence.column("form")


def read(unit: Unit, source, cfg, issues: Issues) -> Iterator[Doc]:
    doc: list[str] = []
    in_body = False
    for path in unit.files:
        for tokens in sentences(path, issues, cfg.max_line_bytes):
            headline = tokens[-1] == HEADLINE_MARK
            if headline:
                tokens = tokens[:-1]
                if in_body and doc:
                    yield Doc(doc, sentences=True)
                    doc, in_body = [], False
            else:
                in_body = True
            text = clean(detokenize(tokens))
            if text:
                doc.append(text)
    if doc:
        yield Doc(doc, sentences=True)
