"""Norsk Aviskorpus, all three distributions (facts: SURVEY §3.5, bert-recipe §3.6).

* `nak-tokens` (1998-2005): Latin-1, one token per line; `<U url>` starts an article, other
  `<X ...>` lines are metadata, `|` is a paragraph break; `. ! ? ¶` tokens end a sentence.
* `nak-text` (2005-2011): Latin-1 running text; `##U url>` starts an article, other `##X ...>`
  headers are metadata, `|` lines separate, `¶` marks sentence/paragraph ends.
* `nak-xml` (2012-2019 and section 3): one article per XML file (`<div type="title|caption|text">`
  with `<p>` paragraphs), encoding as declared, Latin-1 fallback when undeclared.

Text files and XML files may also come packed in `.tar(.gz)` archives (the Språkbanken layout).
One article = one document.  Lines before the first article header are counted as
`missing-header` and skipped.
"""
from __future__ import annotations

import re
import tarfile
import xml.etree.ElementTree as ET
import zlib
from typing import IO, Iterator

from norlm.corpus.inputs import Issues, open_binary, read_lines
from norlm.corpus.readers import Doc, Unit
from norlm.corpus.text import FALLBACK_ENCODING, clean, detokenize

PILCROW = "¶"
SENTENCE_END = {".", "!", "?", PILCROW}
TAG = re.compile(r"<[^>]*>")
XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")
DIV_TYPES = ("title", "caption", "text")
_ARCHIVE = (".tar", ".tar.gz", ".tgz", ".tar.bz2")


def members(path: str, issues: Issues, suffix: str) -> Iterator[tuple[str, IO[bytes] | None]]:
    """(name, open file or None for a plain file) of a file or of each `suffix` member of an archive."""
    if not path.endswith(_ARCHIVE):
        yield path, None
        return
    try:
        with tarfile.open(path, "r:*") as tar:
            for info in tar:
                if info.isfile() and info.name.endswith(suffix):
                    yield f"{path}!{info.name}", tar.extractfile(info)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        issues.add("truncated-file", path, None, f"{type(exc).__name__}: {exc}")


def _lines(path: str, issues: Issues, source, cfg, suffix: str) -> Iterator[tuple[str, int, str]]:
    encoding = source.encoding or "auto"
    for name, fh in members(path, issues, suffix):
        for lineno, line in read_lines(name, issues, encoding, cfg.max_line_bytes, fh=fh):
            yield name, lineno, line


class _Orphans:
    """Tracks text seen before any article header (one record per run of such lines)."""

    def __init__(self, issues: Issues):
        self.issues, self.open = issues, False

    def saw(self, name: str, lineno: int, header: str) -> None:
        if not self.open:
            self.issues.add("missing-header", name, lineno, f"text before the first {header} article header")
            self.open = True

    def reset(self) -> None:
        self.open = False


def read_tokens(unit: Unit, source, cfg, issues: Issues) -> Iterator[Doc]:
    """Section 1: one token per line -> sentences (the format marks them)."""
    for path in unit.files:
        doc: list[str] | None = None
        tokens: list[str] = []
        orphans = _Orphans(issues)
        current = None

        def flush() -> None:
            text = clean(detokenize([t for t in tokens if t != PILCROW]))
            tokens.clear()
            if text and doc is not None:
                doc.append(text)

        for name, lineno, line in _lines(path, issues, source, cfg, ""):
            if name != current:  # a new archive member never continues an article
                flush()
                if doc:
                    yield Doc(doc, sentences=True)
                doc, current = None, name
                orphans.reset()
            tok = line.strip()
            if not tok:
                continue
            if tok.startswith("<") and tok.endswith(">"):
                if tok.startswith("<U"):
                    flush()
                    if doc:
                        yield Doc(doc, sentences=True)
                    doc = []
                    orphans.reset()
                continue
            if doc is None:
                orphans.saw(name, lineno, "<U ...>")
                continue
            if tok == "|":
                flush()
                continue
            tokens.append(tok)
            if tok in SENTENCE_END:
                flush()
        flush()
        if doc:
            yield Doc(doc, sentences=True)


def read_text(unit: Unit, source, cfg, issues: Issues) -> Iterator[Doc]:
    """Section 2: running text with ##-headers and ¶ marks -> paragraphs to segment."""
    for path in unit.files:
        doc: list[str] | None = None
        orphans = _Orphans(issues)
        current = None
        for name, lineno, line in _lines(path, issues, source, cfg, ".txt"):
            if name != current:
                if doc:
                    yield Doc(doc, sentences=not source.segment)
                doc, current = None, name
                orphans.reset()
            stripped = line.strip()
            if stripped.startswith("##") and stripped.endswith(">"):
                if stripped.startswith("##U"):
                    if doc:
                        yield Doc(doc, sentences=not source.segment)
                    doc = []
                    orphans.reset()
                continue
            if not stripped or stripped == "|":
                continue
            if doc is None:
                orphans.saw(name, lineno, "##U ...>")
                continue
            for piece in TAG.sub(" ", stripped).split(PILCROW):
                text = clean(detokenize(piece.split()))
                if text:
                    doc.append(text)
        if doc:
            yield Doc(doc, sentences=not source.segment)


def parse_xml(data: bytes) -> ET.Element:
    """Parse honouring the XML declaration; undeclared non-UTF-8 bytes are read as ISO-8859-15."""
    try:
        return ET.fromstring(data)
    except ET.ParseError:
        if XML_DECL.match(data):
            raise
        try:
            data.decode("utf-8")
            raise
        except UnicodeDecodeError:
            return ET.fromstring(data.decode(FALLBACK_ENCODING))


def article_paragraphs(root: ET.Element, name: str, issues: Issues) -> list[str]:
    """Title, caption and text paragraphs of one article, in document order."""
    out = []
    for div in root.iter("div"):
        kind = div.get("type")
        if kind is None:
            issues.add("div-without-type", name, None, "a <div> has no type attribute")
            continue
        if kind not in DIV_TYPES:
            continue
        paragraphs = div.findall("p")
        texts = ["".join(p.itertext()) for p in paragraphs] if paragraphs else ["".join(div.itertext())]
        out.extend(t for t in (clean(x) for x in texts) if t)
    return out


def read_xml(unit: Unit, source, cfg, issues: Issues) -> Iterator[Doc]:
    """XML articles: each file (or archive member) is one document."""
    for path in unit.files:
        for name, fh in members(path, issues, ".xml"):
            try:
                if fh is None:
                    with open_binary(name) as raw:
                        data = raw.read()
                else:
                    data = fh.read()
            except (EOFError, OSError, zlib.error) as exc:  # a corrupt .xml.gz is counted, not fatal
                issues.add("truncated-file", name, None, f"{type(exc).__name__}: {exc}")
                continue
            if not data.strip():
                issues.add("empty-file", name, None, "no XML in the file")
                continue
            try:
                root = parse_xml(data)
            except ET.ParseError as exc:
                issues.add("malformed-xml", name, exc.position[0], str(exc))
                continue
            paragraphs = article_paragraphs(root, name, issues)
            if paragraphs:
                yield Doc(paragraphs, sentences=not source.segment)
            else:
                issues.drop("empty-document")
