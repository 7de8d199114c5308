"""Readers for the benchmark files: CoNLL-U (UD 2.7, NorNE), NDT CoNLL-X (NorNE train) and NoReC CSV.

Every reader returns plain records plus a count of what it had to skip; a malformed record is
reported with its file and line and left out, so one bad sentence never silently shifts labels.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from norlm.errors import StageError, warn
from norlm.files import open_text
from norlm.norne_split import read_split_rows


class DataError(StageError, ValueError):
    """A data file that cannot be used at all (missing, or no usable record)."""


@dataclass
class TaggedSentence:
    """One sentence of words with its UPOS tags and NER tags (empty lists when absent)."""

    words: list[str]
    upos: list[str] = field(default_factory=list)
    ner: list[str] = field(default_factory=list)


@dataclass
class LabelledText:
    """One sentence for sentence classification: whitespace tokens and a label string."""

    words: list[str]
    label: str


@dataclass
class ReadResult:
    """Records read from one or more files, with the number of records left out and why."""

    records: list
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def extend(self, other: "ReadResult") -> None:
        self.records.extend(other.records)
        self.skipped += other.skipped
        self.problems.extend(other.problems)


def _warn(result: ReadResult, message: str) -> None:
    result.skipped += 1
    result.problems.append(message)
    if len(result.problems) <= 10:
        warn(f"skipped {message}")


def _name_tag(misc: str) -> str | None:
    for item in misc.split("|"):
        if item.startswith("name="):
            return item[5:]
    return None


def _check_path(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: file not found")


def read_conllu(path: str | Path) -> ReadResult:
    """Words, UPOS and (if present) NorNE `name=` tags of a CoNLL-U file.

    Multi-word token ranges (`1-2`) and empty nodes (`1.1`) are not words and are ignored.
    """
    path = Path(path)
    _check_path(path)
    result = ReadResult([])
    words: list[str] = []
    upos: list[str] = []
    ner: list[str | None] = []
    start, bad = 0, ""

    def flush(lineno: int) -> None:
        nonlocal words, upos, ner, bad
        if words or bad:
            if bad:
                _warn(result, f"{path}:{start}: sentence ({bad})")
            elif any(t is None for t in ner) and not all(t is None for t in ner):
                _warn(result, f"{path}:{start}: sentence (name= tag missing on some words)")
            else:
                tags = [] if not ner or ner[0] is None else list(ner)
                result.records.append(TaggedSentence(words, upos, tags))
        words, upos, ner, bad = [], [], [], ""

    with open_text(path) as fh:
        lineno = 0
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                flush(lineno)
                continue
            if line.startswith("#"):
                continue
            if not words and not bad:
                start = lineno
            cols = line.split("\t")
            if len(cols) != 10:
                bad = bad or f"line {lineno} has {len(cols)} columns, expected 10"
                continue
            if "-" in cols[0] or "." in cols[0]:
                continue
            words.append(cols[1])
            upos.append(cols[3])
            ner.append(_name_tag(cols[9]))
        flush(lineno + 1)
    return result


def read_ndt(path: str | Path) -> ReadResult:
    """Words and NE tags of an NDT CoNLL-X file of NorNE, without the `|` headline-marker tokens.

    UD removed those markers, so dropping them makes the rebuilt train split match NorNE's UD files.
    """
    path = Path(path)
    _check_path(path)
    result = ReadResult([])
    words: list[str] = []
    ner: list[str] = []
    start, bad = 0, ""

    def flush() -> None:
        nonlocal words, ner, bad
        if bad:
            _warn(result, f"{path}:{start}: sentence ({bad})")
        elif words:
            result.records.append(TaggedSentence(words, [], ner))
        words, ner, bad = [], [], ""

    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                flush()
                continue
            if not words and not bad:
                start = lineno
            cols = line.split("\t")
            if len(cols) != 10:
                bad = bad or f"line {lineno} has {len(cols)} columns, expected 10"
                continue
            tag = _name_tag(cols[9])
            if tag is None:
                bad = bad or f"line {lineno} has no name= tag"
                continue
            if cols[1] == "|":
                continue
            words.append(cols[1])
            ner.append(tag)
        flush()
    return result


def read_split_table(path: str | Path) -> dict[str, dict[str, list[str]]]:
    """`norne_ndt_split.tsv` -> {lang: {split: [ndt file names in sorted order]}}."""
    path = Path(path)
    _check_path(path)
    table: dict[str, dict[str, list[str]]] = {}
    for lang, name, split, _group in read_split_rows(path, DataError):
        table.setdefault(lang, {}).setdefault(split, []).append(name)
    for splits in table.values():
        for names in splits.values():
            names.sort()
    return table


def read_ndt_split(ndt_dir: str | Path, split_table: str | Path, lang: str, split: str) -> ReadResult:
    """Concatenate the NDT files of one NorNE split (sorted by name): the offline NorNE train set."""
    names = read_split_table(split_table).get(lang, {}).get(split, [])
    if not names:
        raise DataError(f"{split_table}: no files listed for {lang} {split}")
    result = ReadResult([])
    for name in names:
        base = Path(ndt_dir) / lang / name
        path = base if base.exists() else base.with_name(base.name + ".gz")
        result.extend(read_ndt(path))
    return result


def read_norec_csv(path: str | Path) -> ReadResult:
    """NoReC_sentence binary CSV (no header; `label,text`; 1 = positive, 0 = negative)."""
    path = Path(path)
    _check_path(path)
    result = ReadResult([])
    labels = {"1": "positive", "0": "negative"}
    with open_text(path) as fh:
        reader = csv.reader(fh)
        for row in reader:
            lineno = reader.line_num
            if len(row) != 2:
                _warn(result, f"{path}:{lineno}: row has {len(row)} fields, expected label,text")
                continue
            label, text = row[0].strip(), row[1]
            if label not in labels:
                _warn(result, f"{path}:{lineno}: label {label!r} is not 0 or 1")
                continue
            words = text.split()
            if not words:
                _warn(result, f"{path}:{lineno}: empty text")
                continue
            result.records.append(LabelledText(words, labels[label]))
    return result
