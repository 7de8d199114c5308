"""The one reader of the CoNLL family: CoNLL-U (UD 2.7, NorNE), CoNLL-X (NDT) and graph CoNLL-U.

Lines are framed into sentences here, so every problem names `FILE:LINE`; the cells are parsed by
the `conllu` package's value parsers (ids, integer heads, `key=value|...` columns), with one field
list per layout.  One policy for every user: a malformed sentence is skipped, reported as
`FILE:LINE: what is wrong` (through `norlm.errors.warn`, or the caller's `report`) and counted;
`read_sentences` raises `ConllError` (exit 2) when a file leaves nothing usable.
Checked: the column count, integer word ids 1..n in order (ranges and empty nodes only in CoNLL-U),
HEAD (and graph arc heads) in range when the caller reads them, and tags against a label set.
Bytes: a UTF-8 BOM and CRLF line ends are accepted; an invalid byte skips its sentence; a truncated
or corrupt .gz ends the file with a message.
"""
from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from conllu.exceptions import ParseException
from conllu.parser import parse_dict_value, parse_id_value, parse_int_value

from norlm.errors import StageError, warn

CONLLU = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
CONLLX = ("id", "form", "lemma", "cpostag", "postag", "feats", "head", "deprel", "phead", "misc")  # NorNE: name= in col 10
LAYOUTS = {"conllu": CONLLU, "conllx": CONLLX, "graph": CONLLU + ("arcs",)}
UPOS = frozenset(("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
                  "PUNCT", "SCONJ", "SYM", "VERB", "X"))
_SHOWN = 10  # problems echoed per file (all are counted)
_READ_ERRORS = (EOFError, OSError, zlib.error)


class ConllError(StageError, ValueError):
    """A CoNLL file that cannot be used at all (missing, or no usable sentence): exit 2."""


@dataclass
class Sentence:
    """One sentence: its word rows (cells as read), their line numbers and the `# key = value` comments."""

    path: str
    line: int  # first line of the sentence
    meta: dict[str, str]
    rows: list[list[str]]  # word lines only (no multi-word ranges, no empty nodes)
    lines: list[int]
    fields: tuple[str, ...] = CONLLU

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[str]:
        k = self.fields.index(name)
        return [row[k] for row in self.rows]

    def misc(self, key: str, name: str = "misc") -> list[str | None]:
        """The value of `key` in each word's `key=value|...` column (None where it is absent)."""
        k = self.fields.index(name)
        return [(parse_dict_value(row[k]) or {}).get(key) for row in self.rows]


@dataclass
class Tally:
    """Sentences kept and skipped in one or more files, with the messages of the skipped ones."""

    sentences: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


class BadSentence(ValueError):
    """Raised by a check: the message says what is wrong, `line` where (None: the sentence's first line)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


Check = Callable[[Sentence], None]


def tag_check(name: str, allowed: Iterable[str], what: str | None = None) -> Check:
    """A check that every word's `name` column is in `allowed` (the unknown tag and its line named)."""
    allowed = frozenset(allowed)

    def check(sentence: Sentence) -> None:
        for value, line in zip(sentence.column(name), sentence.lines):
            if value not in allowed:
                raise BadSentence(f"unknown {what or name} tag {value!r}", line)
    return check


def head_check(sentence: Sentence) -> None:
    """HEAD is an integer from 0 to the sentence length."""
    n = len(sentence)
    for value, line in zip(sentence.column("head"), sentence.lines):
        try:
            head = parse_int_value(value)
        except ParseException:
            raise BadSentence(f"HEAD {value!r} is not an integer", line) from None
        if head is None or not 0 <= head <= n:
            raise BadSentence(f"HEAD {value!r} outside 0..{n}", line)


def _frame(cells: list[str], fields: tuple[str, ...], lineno: int) -> tuple | None:
    """The parsed id of a token line (None for a multi-word range or an empty node); raises BadSentence."""
    if len(cells) != len(fields):
        raise BadSentence(f"{len(cells)} columns, expected {len(fields)}", lineno)
    cell = cells[0]
    if cell.isascii() and cell.isdigit() and cell[0] != "0":  # the common case, as conllu's ID_SINGLE
        return (int(cell),)
    try:
        ident = parse_id_value(cell)
    except ParseException:
        raise BadSentence(f"token id {cells[0]!r} is not a valid id", lineno) from None
    if isinstance(ident, int) and ident > 0:
        return (ident,)
    if isinstance(ident, tuple) and fields is CONLLU:
        return None
    raise BadSentence(f"token id {cells[0]!r} is not a word id (1, 2, ...)", lineno)


class _Builder:
    """Collects one sentence's lines; `finish` applies the checks."""

    def __init__(self, path: str, fields: tuple[str, ...]):
        self.path, self.fields = path, fields
        self.reset()

    def reset(self) -> None:
        self.start, self.meta, self.rows, self.lines, self.error = 0, {}, [], [], None

    @property
    def empty(self) -> bool:
        return not self.rows and self.error is None

    def fail(self, message: str, line: int) -> None:
        if self.error is None:
            self.error = BadSentence(message, line)
        self.start = self.start or line

    def add(self, lineno: int, text: str) -> None:
        self.start = self.start or lineno
        if text.startswith("#"):
            key, sep, value = text[1:].partition("=")
            if sep:
                self.meta[key.strip()] = value.strip()
            return
        if self.error is not None:
            return
        cells = text.split("\t")
        try:
            ident = _frame(cells, self.fields, lineno)
        except BadSentence as exc:
            self.error = exc
            return
        if ident is None:
            return
        if ident[0] != len(self.rows) + 1:
            self.error = BadSentence(f"token id {cells[0]}, expected {len(self.rows) + 1}", lineno)
            return
        self.rows.append(cells)
        self.lines.append(lineno)

    def finish(self, checks: Iterable[Check]) -> Sentence:
        if self.error is None and not self.rows:
            self.error = BadSentence("comment lines without tokens", self.start)
        if self.error is not None:
            raise self.error
        sentence = Sentence(self.path, self.start, self.meta, self.rows, self.lines, self.fields)
        for check in checks:
            check(sentence)
        return sentence


Report = Callable[[int, str], None]


def parse_lines(lines: Iterable[tuple[int, str]], path: str, layout: str = "conllu", checks: Iterable[Check] = (),
                report: Report | None = None, tally: Tally | None = None, convert: Callable | None = None) -> Iterator:
    """Sentences (or `convert(sentence)`, which may raise BadSentence) of numbered text lines, newline
    removed.  A line given as an `Unreadable` skips its sentence with the reason it carries."""
    fields = LAYOUTS[layout]
    checks = tuple(checks)
    tally = tally if tally is not None else Tally()
    report = report or _warner(path, tally)
    build = _Builder(str(path), fields)

    def flush():
        if build.empty and not build.meta:
            build.reset()
            return None
        try:
            sentence = build.finish(checks)
            record = convert(sentence) if convert else sentence
            tally.sentences += 1
            return record
        except BadSentence as exc:
            tally.skipped += 1
            report(exc.line or build.start, str(exc))
            return None
        finally:
            build.reset()

    for lineno, text in lines:
        if isinstance(text, Unreadable):
            build.fail(text.reason, lineno)
        elif not text.strip():
            sentence = flush()
            if sentence is not None:
                yield sentence
        else:
            build.add(lineno, text.rstrip("\r"))
    sentence = flush()
    if sentence is not None:
        yield sentence


def _warner(path: str, tally: Tally) -> Report:
    def report(line: int, what: str) -> None:
        message = f"{path}:{line}: {what}"
        tally.problems.append(message)
        if len(tally.problems) <= _SHOWN:
            warn(f"{message}; sentence skipped")
    return report


@dataclass(frozen=True)
class Unreadable:
    """A line that could not be read, and why."""

    reason: str


def file_lines(path: str | Path) -> Iterator[tuple[int, str | Unreadable]]:
    """Numbered lines of a UTF-8 file (.gz by name), BOM and CR removed; an undecodable line, or the
    end of a truncated or corrupt .gz, comes as an `Unreadable`."""
    path = Path(path)
    try:
        fh = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    except FileNotFoundError:
        raise ConllError(f"{path}: file not found") from None
    with fh:
        lineno = 0
        while True:
            try:
                raw = fh.readline()
            except _READ_ERRORS as exc:
                yield lineno + 1, Unreadable(f"truncated or corrupt file ({type(exc).__name__}: {exc})")
                return
            if not raw:
                return
            lineno += 1
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield lineno, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                yield lineno, Unreadable(f"invalid UTF-8 byte 0x{raw[exc.start]:02x} at byte {exc.start + 1}")


def read_sentences(path: str | Path, layout: str = "conllu", checks: Iterable[Check] = (),
                   tally: Tally | None = None, require: bool = True, convert: Callable | None = None) -> list:
    """Every usable sentence (or `convert(sentence)`) of one file; with `require`, ConllError when there is none."""
    tally = tally if tally is not None else Tally()
    report = _warner(str(path), tally)
    before = tally.sentences
    out = list(parse_lines(file_lines(path), str(path), layout, checks, report, tally, convert))
    if require and tally.sentences == before:
        raise ConllError(f"{path}: no usable sentence ({_skipped(tally)})")
    return out


def _skipped(tally: Tally) -> str:
    if not tally.problems:
        return "the file holds no token lines"
    return f"{tally.skipped} skipped; first: {tally.problems[0]}"
