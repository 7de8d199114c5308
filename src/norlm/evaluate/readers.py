"""Readers for the benchmark files: CoNLL-U (UD 2.7, NorNE), NDT CoNLL-X (NorNE train) and NoReC CSV.

Every reader returns plain records plus a count of what it had to skip; a malformed record is
reported with its file and line and left out, so one bad sentence never silently shifts labels.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from norlm import conll
from norlm.conll import BadSentence, Sentence, Tally
from norlm.errors import StageError, warn
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


NER_TYPES = ("PER", "ORG", "LOC", "GPE_LOC", "GPE_ORG", "PROD", "EVT", "DRV", "MISC")
NER_TAGS = frozenset(["O"] + [f"{p}-{t}" for t in NER_TYPES for p in "BI"])  # NorNE's BIO tags


def _check_path(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: file not found")


def _ner_tags(sentence: Sentence, required: bool) -> list[str]:
    """The NorNE `name=` tags of a sentence ([] when it has none and none are required)."""
    tags = sentence.misc("name")
    if not required and all(t is None for t in tags):
        return []
    for tag, line in zip(tags, sentence.lines):
        if tag is None:
            raise BadSentence("no name= tag" + ("" if required else " (other words of the sentence have one)"), line)
        if tag not in NER_TAGS:
            raise BadSentence(f"unknown NER tag {tag!r} (NorNE BIO tags: O, B-/I- + {', '.join(NER_TYPES)})", line)
    return tags


def _read(path: Path, layout: str, checks: list, build) -> ReadResult:
    """Records `build(sentence)` of one file; a sentence `build` rejects is skipped like a malformed one."""
    _check_path(path)
    tally = Tally()
    records = conll.read_sentences(path, layout, checks, tally, require=False, convert=build)
    return ReadResult([r for r in records if r is not None], tally.skipped, tally.problems)


def read_conllu(path: str | Path) -> ReadResult:
    """Words, UPOS and (if present) NorNE `name=` tags of a CoNLL-U file.

    Multi-word token ranges (`1-2`) and empty nodes (`1.1`) are not words and are ignored.  UPOS
    must be one of UD's 17 tags and NER tags NorNE's.
    """
    return _read(Path(path), "conllu", [conll.tag_check("upos", conll.UPOS, "UPOS")],
                 lambda s: TaggedSentence(s.column("form"), s.column("upos"), _ner_tags(s, False)))


def _ndt_sentence(sentence: Sentence) -> TaggedSentence:
    words, tags = [], []
    for word, tag in zip(sentence.column("form"), _ner_tags(sentence, True)):
        if word != "|":
            words.append(word)
            tags.append(tag)
    return TaggedSentence(words, [], tags) if words else None


def read_ndt(path: str | Path) -> ReadResult:
    """Words and NE tags of an NDT CoNLL-X file of NorNE, without the `|` headline-marker tokens.

    UD removed those markers, so dropping them makes the rebuilt train split match NorNE's UD files.
    """
    return _read(Path(path), "conllx", [], _ndt_sentence)


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


def _problem(result: ReadResult, message: str) -> None:
    result.skipped += 1
    result.problems.append(message)
    if len(result.problems) <= 10:
        warn(f"{message}; row skipped")


def read_norec_csv(path: str | Path) -> ReadResult:
    """NoReC_sentence binary CSV (no header; `label,text`; 1 = positive, 0 = negative).

    Each line is one row (the files have no multi-line fields), so an unbalanced quote costs its own
    line only instead of swallowing every later row.
    """
    path = Path(path)
    _check_path(path)
    result = ReadResult([])
    labels = {"1": "positive", "0": "negative"}
    for lineno, line in conll.file_lines(path):
        if isinstance(line, conll.Unreadable):
            _problem(result, f"{path}:{lineno}: {line.reason}")
            continue
        if not line.strip():
            continue
        try:
            row = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            _problem(result, f"{path}:{lineno}: malformed CSV row ({exc}; an unbalanced quote?)")
            continue
        if len(row) != 2:
            _problem(result, f"{path}:{lineno}: row has {len(row)} fields, expected label,text")
            continue
        label, words = row[0].strip(), row[1].split()
        if label not in labels:
            _problem(result, f"{path}:{lineno}: label {label!r} is not 0 or 1")
        elif not words:
            _problem(result, f"{path}:{lineno}: empty text")
        else:
            result.records.append(LabelledText(words, labels[label]))
    return result
