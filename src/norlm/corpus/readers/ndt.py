"""NDT treebank files (NorNE `ndt/*.conll`): the demo's in-domain running text.

A unit is one source group (`ap001`, `blogg-nn002`, ...) read chunk by chunk in order; a headline
(a sentence closed by the `|` token) that follows body text starts a new document, so each news
article or blog post becomes its own document.  Tokens are detokenised into normal spacing.
"""
from __future__ import annotations

from typing import Iterator

from norlm.corpus.inputs import Issues, read_lines
from norlm.corpus.readers import Doc, Unit
from norlm.corpus.text import clean, detokenize

HEADLINE_MARK = "|"


def sentences(path: str, issues: Issues, max_bytes: int) -> Iterator[list[str]]:
    """Token lists of a CoNLL file (FORM column), one per sentence."""
    tokens: list[str] = []
    for lineno, line in read_lines(path, issues, "utf-8", max_bytes):
        if not line.strip():
            if tokens:
                yield tokens
            tokens = []
            continue
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 2 or not cols[0].strip().replace(".", "").replace("-", "").isdigit():
            issues.add("malformed-conll", path, lineno, f"expected ID<TAB>FORM..., got {line[:60]!r}")
            continue
        if "-" in cols[0] or "." in cols[0]:
            continue  # multi-word token ranges and empty nodes are not surface tokens
        tokens.append(cols[1])
    if tokens:
        yield tokens


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
