"""Planning: expand each source's paths into ordered units of input files.

The unit list (and its order) depends only on the config and the files on disk, so every MPI rank
computes the same plan and output positions are the same whoever processes a unit.
"""
from __future__ import annotations

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


def plan(sources) -> tuple[list[Unit], dict[str, list[str]]]:
    """All units in output order, and per source the path patterns that matched nothing."""
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
        for u_idx, group in enumerate(groups):
            size = sum(os.path.getsize(p) for p in group)
            units.append(Unit(s_idx, u_idx, group, size))
    return units, missing
