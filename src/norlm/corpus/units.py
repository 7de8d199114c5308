"""Planning: expand each source's paths into ordered units of input files.

The unit list (and its order) depends only on the config and the files on disk, so every MPI rank
computes the same plan and output positions are the same whoever processes a unit.

A Wikipedia `.bz2` dump larger than `corpus.unit_mb` (compressed) is split into several units when
it is a multistream dump (`*-pages-articles-multistream.xml.bz2`: a header stream with
`<mediawiki ...><siteinfo>`, then independent bz2 streams of whole `<page>` elements, the last one
ending with `</mediawiki>`).  Each such unit is a byte range `[start, end)` of whole streams
(`Unit.span`), cut at the first stream after every `unit_mb` boundary that starts with `<page>`;
the ranges of a file are consecutive units of its source, so document order and output do not
change.  Stream starts are found by their 10-byte signature (`BZh1`-`BZh9` + a block or
end-of-stream magic), checked by decompressing the stream's first bytes, and only near each
boundary, so planning reads little of the file.  A dump without such starts (one bz2 stream,
plain or gzipped XML) stays one unit.
"""
from __future__ import annotations

import bz2
import glob
import os
import re
from collections import defaultdict
from pathlib import Path

from norlm.errors import StageError
from norlm.config import REPO_ROOT
from norlm.corpus.readers import Unit
from norlm.norne_split import read_split_rows

SUFFIXES = {
    "wikipedia": (".xml.bz2", ".xml", ".xml.gz"),
    "nak-tokens": (".gz", ".txt", ".bz2", ".xz"),
    "nak-text": (".txt", ".txt.gz", ".tar.gz", ".tgz", ".tar"),
    "nak-xml": (".xml", ".xml.gz", ".tar.gz", ".tgz", ".tar"),
    "plain": (".txt", ".txt.gz", ".txt.bz2", ".txt.xz"),
    "ndt": (".conll", ".conll.gz"),
}
NDT_CHUNK = re.compile(r"^(?P<group>.+)_(?P<chunk>\d+)\.conll(\.gz)?$")
NDT_LANG = {"nb": "nob", "nn": "nno"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PlanError(StageError, ValueError):
    """A source that cannot be planned (bad name, kind or split table)."""


# a bz2 stream start: "BZh", the block size digit, then the first block's magic (pi) or, for an
# empty stream, the end-of-stream magic (sqrt(pi))
BZ2_STREAM = re.compile(rb"BZh[1-9](?:\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")
_SIGNATURE = 10
_SCAN_BYTES = 1 << 20  # chunk of the signature scan
_HEAD_READ = 1 << 16  # compressed bytes fed at a time while decompressing a stream's first bytes
_HEAD_LIMIT = 4 << 20  # a bz2 block is at most 900 kB of text: no output by then = not a stream
MEDIAWIKI_ROOT = re.compile(rb"<mediawiki\b[^>]*>")


def stream_head(fh, offset: int, n: int) -> bytes:
    """The first (up to) n decompressed bytes of the bz2 stream at `offset`; b"" if none is there."""
    fh.seek(offset)
    dec = bz2.BZ2Decompressor()
    out, fed = b"", 0
    try:
        while len(out) < n and not dec.eof and fed < _HEAD_LIMIT:
            data = b""
            if dec.needs_input:
                data = fh.read(_HEAD_READ)
                if not data:
                    break
                fed += len(data)
            out += dec.decompress(data, max_length=n - len(out))
    except (OSError, EOFError, ValueError):  # not a stream after all (a signature inside compressed data)
        return b""
    return out


def mediawiki_root(fh) -> bytes | None:
    """The `<mediawiki xmlns=...>` start tag in the first bz2 stream of a dump, if there is one."""
    match = MEDIAWIKI_ROOT.search(stream_head(fh, 0, 8192))
    return match[0] if match else None


def _page_stream(fh, pos: int, size: int) -> int | None:
    """Offset of the first bz2 stream at or after `pos` whose text starts with `<page>`."""
    base = pos
    while base < size:
        fh.seek(base)
        chunk = fh.read(_SCAN_BYTES + _SIGNATURE - 1)  # a signature starting in this chunk is whole in it
        for match in BZ2_STREAM.finditer(chunk):
            if match.start() >= _SCAN_BYTES:
                break  # the next chunk sees it
            if stream_head(fh, base + match.start(), 64).lstrip().startswith(b"<page>"):
                return base + match.start()
        base += _SCAN_BYTES
    return None


def wiki_spans(path: str, unit_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of whole bz2 streams of a multistream dump, one per unit; [(0, size)] if unsplittable."""
    size = os.path.getsize(path)
    cuts = [0]
    try:
        with open(path, "rb") as fh:
            if size > unit_bytes and mediawiki_root(fh) is not None:
                target = unit_bytes
                while target < size:
                    start = _page_stream(fh, target, size)
                    if start is None:
                        break
                    cuts.append(start)
                    target = (start // unit_bytes + 1) * unit_bytes
    except OSError:  # unreadable: one unit, whose reader reports the problem
        cuts = [0]
    return list(zip(cuts, cuts[1:] + [size]))


def resolve(pattern: str) -> list[str]:
    """Files matching a path or glob, relative to the cwd, else to the repository."""
    bases = [Path(pattern)] if os.path.isabs(pattern) else [Path(pattern), REPO_ROOT / pattern]
    for base in bases:
        hits = sorted(glob.glob(str(base), recursive=True))
        if hits:
            return hits
    return []


def expand(paths: tuple[str, ...], kind: str) -> tuple[list[str], list[str]]:
    """(files, patterns that matched nothing); directories are searched recursively."""
    files: list[str] = []
    missing: list[str] = []
    for pattern in paths:
        hits = resolve(pattern)
        if not hits:
            missing.append(pattern)
        for hit in hits:
            if os.path.isdir(hit):
                files.extend(sorted(str(p) for p in Path(hit).rglob("*")
                                    if p.is_file() and str(p).endswith(SUFFIXES[kind])))
            else:
                files.append(hit)
    return list(dict.fromkeys(files)), missing


def read_split_table(path: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(lang, ndt file name) -> (split, group) from norne_ndt_split.tsv."""
    hits = resolve(path)
    if not hits:
        raise PlanError(f"NDT split table not found: {path}")
    return {(lang, name): (split, group) for lang, name, split, group in read_split_rows(hits[0], PlanError)}


def _ndt_groups(files: list[str], source) -> list[tuple[str, ...]]:
    table = read_split_table(source.split_file) if source.split else {}
    lang = NDT_LANG.get(source.lang, source.lang)
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for path in files:
        name = os.path.basename(path)
        match = NDT_CHUNK.match(name)
        if not match:
            raise PlanError(f"{path}: not an NDT chunk name (<group>_NNNN.conll[.gz])")
        if source.split:
            split, _ = table.get((lang, name.removesuffix(".gz")), ("", ""))
            if split != source.split:
                continue
        groups[match["group"]].append((int(match["chunk"]), path))
    return [tuple(p for _, p in sorted(chunks)) for _, chunks in sorted(groups.items())]


def plan(sources, unit_mb: float = 64.0) -> tuple[list[Unit], dict[str, list[str]]]:
    """All units in output order, and per source the path patterns that matched nothing.

    `unit_mb` (corpus.unit_mb): multistream .bz2 Wikipedia dumps larger than this are split."""
    names = set()
    units: list[Unit] = []
    missing: dict[str, list[str]] = {}
    for s_idx, source in enumerate(sources):
        if not _NAME.match(source.name):
            raise PlanError(f"[[corpus.sources]] #{s_idx + 1}: name {source.name!r} must be letters, digits, _ . -")
        if source.name in names:
            raise PlanError(f"[[corpus.sources]]: duplicate source name {source.name!r}")
        names.add(source.name)
        if source.kind not in SUFFIXES:
            raise PlanError(f"source {source.name}: unknown kind {source.kind!r} (known: {', '.join(SUFFIXES)})")
        files, missing[source.name] = expand(source.paths, source.kind)
        if source.kind == "ndt":
            groups = _ndt_groups(files, source)
        elif source.kind == "nak-xml":
            by_dir: dict[str, list[str]] = defaultdict(list)
            for path in files:
                key = path if path.endswith((".tar", ".tar.gz", ".tgz")) else os.path.dirname(path)
                by_dir[key].append(path)
            groups = [tuple(v) for _, v in sorted(by_dir.items())]
        else:
            groups = [(path,) for path in files]
        u_idx = 0
        for group in groups:
            size = sum(os.path.getsize(p) for p in group)
            spans = [None]
            if source.kind == "wikipedia" and group[0].endswith(".bz2") and size > unit_mb * 1_000_000:
                spans = wiki_spans(group[0], max(1, int(unit_mb * 1_000_000)))
                spans = spans if len(spans) > 1 else [None]
            for span in spans:
                units.append(Unit(s_idx, u_idx, group, size if span is None else span[1] - span[0], span))
                u_idx += 1
    return units, missing
