"""MediaWiki dumps (`*wiki-*-pages-articles[-multistream].xml.bz2`) through gensim's segment_wiki, as the paper did.

gensim's `extract_page_xmls` + `segment` (the functions behind `segment_wiki`) split each article
into level-2 sections and strip links, templates and references.  They leave some markup that
Norwegian dumps need removed here: `'''bold'''`/`''italic''` quotes, `=== sub ===` headings,
`Kategori:`/`Fil:` link text, and `#OMDIRIGERING` redirects (gensim only knows `#redirect`).
Every section becomes its own document, so NSP pairs never span two sections.

A unit with a byte range (`Unit.span`, a large multistream dump split by norlm.corpus.units) reads
only the bz2 streams in that range, decompressed stream by stream as gensim asks for bytes (memory
does not grow with the range), wrapped into a document of its own: a range after the first opens
with the file's `<mediawiki xmlns=...>` start tag (from its first stream), one before the last
closes with `</mediawiki>`.  Bad input in a range is reported with the file and the range.
"""
from __future__ import annotations

import bz2
import os
import re
from typing import Iterator
from xml.etree.ElementTree import ParseError

from gensim.corpora.wikicorpus import IGNORED_NAMESPACES
from gensim.scripts.segment_wiki import extract_page_xmls, segment

from norlm.corpus.inputs import Issues, open_binary
from norlm.corpus.readers import Doc, Unit
from norlm.corpus.text import clean
from norlm.corpus.units import mediawiki_root

REDIRECT = re.compile(r"^\s*#\s*(redirect|omdirigering)\b", re.IGNORECASE)
# namespaces whose link text filter_wiki leaves behind in Norwegian dumps (nb + nn + en names)
_LINK_NAMESPACES = r"(kategori|category|fil|file|bilde|image|media|mal|template|wikipedia|portal)"
NAMESPACE_LINE = re.compile(rf"^\s*{_LINK_NAMESPACES}\s*:", re.IGNORECASE)
_NS_PREFIX = re.compile(rf"^{_LINK_NAMESPACES}:", re.IGNORECASE)
HEADING = re.compile(r"^\s*=+[^=].*=+\s*$")
QUOTES = re.compile(r"'{2,}")
LIST_MARK = re.compile(r"^[*#:;]+\s*")


def section_paragraphs(text: str) -> list[str]:
    """The prose lines of one section, with the markup gensim leaves removed."""
    out = []
    for line in text.split("\n"):
        if HEADING.match(line) or NAMESPACE_LINE.match(line):
            continue
        line = clean(LIST_MARK.sub("", QUOTES.sub("", line)))
        if line:
            out.append(line)
    return out


class StreamRange:
    """A read-only binary file (and context manager closing `fh`) of the text of the bz2 streams in
    bytes [start, end) of `fh`, between `head` and `tail`; decompressed as read, one read's size at
    most at a time."""

    CHUNK = 1 << 16  # compressed bytes read at a time

    def __init__(self, fh, start: int, end: int, head: bytes = b"", tail: bytes = b""):
        self._fh, self._left = fh, end - start
        self._fh.seek(start)
        self._dec = bz2.BZ2Decompressor()
        self._raw = b""  # compressed bytes read but not yet fed to a decompressor
        self._started = False  # the current stream has been fed bytes
        self._streams = 0  # streams read to their end
        self._pending, self._tail = head, tail  # tail None: returned

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(self.CHUNK), b""))
        if not self._pending:
            self._pending = self._decompress(max(size, 1))
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def _decompress(self, n: int) -> bytes:
        """Up to n more bytes of text (the tail after the last stream; b"" at the end)."""
        while self._tail is not None:
            if self._dec.eof:
                self._raw = self._dec.unused_data + self._raw
                self._dec, self._started = bz2.BZ2Decompressor(), False
                self._streams += 1
                if not self._raw and not self._left:
                    return self._end()
            data = b""
            if self._dec.needs_input:
                if not self._raw:
                    self._raw = self._fh.read(min(self.CHUNK, self._left))
                    self._left = self._left - len(self._raw) if self._raw else 0
                    if not self._raw:
                        if self._started:
                            raise EOFError("compressed data ended before the end-of-stream marker")
                        raise EOFError("the file ends before the unit's byte range does (changed since planning?)")
                data, self._raw = self._raw, b""
            try:
                out = self._dec.decompress(data, max_length=n)
            except OSError:
                if self._started or not self._streams:
                    raise
                return self._end()  # trailing bytes that are no bz2 stream: ignored, as bz2.open does
            self._started = True
            if out:
                return out
        return b""

    def _end(self) -> bytes:
        tail, self._tail, self._raw, self._left = self._tail, None, b"", 0
        return tail


def _open_unit(unit: Unit, path: str):
    """The unit's input as a binary file of XML: the whole file, or its byte range wrapped as a dump."""
    if unit.span is None:
        return open_binary(path)
    start, end = unit.span
    fh = open(path, "rb")
    try:
        head = b""
        if start > 0:
            head = mediawiki_root(fh)
            if head is None:
                raise ValueError("no <mediawiki> start tag in the file's first bz2 stream")
        tail = b"</mediawiki>\n" if end < os.path.getsize(path) else b""
        return StreamRange(fh, start, end, head, tail)  # closes fh
    except BaseException:
        fh.close()
        raise


def read(unit: Unit, source, cfg, issues: Issues) -> Iterator[Doc]:
    where = "" if unit.span is None else f"bz2 streams at bytes {unit.span[0]}-{unit.span[1]}: "
    for path in unit.files:
        pages = 0
        try:
            with _open_unit(unit, path) as fh:
                for page_xml in extract_page_xmls(fh):
                    pages += 1
                    try:
                        title, sections = segment(page_xml)
                    except (ParseError, AttributeError) as exc:
                        issues.add("malformed-page", path, None, f"{where}page {pages}: {exc}")
                        continue
                    title = title or ""
                    if not sections or any(title.startswith(ns + ":") for ns in IGNORED_NAMESPACES) \
                            or _NS_PREFIX.match(title):
                        issues.drop("wiki-other-namespace")
                        continue
                    if REDIRECT.match(sections[0][1]):
                        issues.drop("wiki-redirect")
                        continue
                    if sum(len(body.strip()) for _, body in sections) < cfg.wiki_min_chars:
                        issues.drop("wiki-stub")
                        continue
                    for _, body in sections:
                        paragraphs = section_paragraphs(body)
                        if paragraphs:
                            yield Doc(paragraphs, sentences=not source.segment)
        except ParseError as exc:
            line = exc.position[0] if getattr(exc, "position", None) else None
            if pages == 0 and "no element found" in str(exc) and line == 1:
                issues.add("empty-file", path, None, f"{where}no XML in the file")
            elif unit.span is None:
                issues.add("malformed-xml", path, line, f"{exc} (kept {pages} pages before it)")
            else:  # the line counts from the range's start
                issues.add("malformed-xml", path, None, f"{where}{exc} (kept {pages} pages before it)")
        except (EOFError, OSError, ValueError, RuntimeError) as exc:
            issues.add("truncated-file", path, None,
                       f"{where}{type(exc).__name__}: {exc} (kept {pages} pages before it)")
