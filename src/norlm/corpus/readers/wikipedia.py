"""MediaWiki dumps (`*wiki-*-pages-articles.xml.bz2`) through gensim's segment_wiki, as the paper did.

gensim's `extract_page_xmls` + `segment` (the functions behind `segment_wiki`) split each article
into level-2 sections and strip links, templates and references.  They leave some markup that
Norwegian dumps need removed here: `'''bold'''`/`''italic''` quotes, `=== sub ===` headings,
`Kategori:`/`Fil:` link text, and `#OMDIRIGERING` redirects (gensim only knows `#redirect`).
Every section becomes its own document, so NSP pairs never span two sections.
"""
from __future__ import annotations

import re
from typing import Iterator
from xml.etree.ElementTree import ParseError

from gensim.corpora.wikicorpus import IGNORED_NAMESPACES
from gensim.scripts.segment_wiki import extract_page_xmls, segment

from norlm.corpus.inputs import Issues, open_binary
from norlm.corpus.readers import Doc, Unit
from norlm.corpus.text import clean

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


def read(unit: Unit, source, cfg, issues: Issues) -> Iterator[Doc]:
    for path in unit.files:
        pages = 0
        try:
            with open_binary(path) as fh:
                for page_xml in extract_page_xmls(fh):
                    pages += 1
                    try:
                        title, sections = segment(page_xml)
                    except (ParseError, AttributeError) as exc:
                        issues.add("malformed-page", path, None, f"page {pages}: {exc}")
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
                issues.add("empty-file", path, None, "no XML in the file")
            else:
                issues.add("malformed-xml", path, line, f"{exc} (kept {pages} pages before it)")
        except (EOFError, OSError, ValueError, RuntimeError) as exc:
            issues.add("truncated-file", path, None, f"{type(exc).__name__}: {exc} (kept {pages} pages before it)")
