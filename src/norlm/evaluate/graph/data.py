"""Readers for the NoReC_fine and NoReC_neg JSON files, and their join on (document, text).

Both datasets are pre-tokenised, single-space separated text with character-offset annotations.
The two share documents but not always sentence order or `sent_id`, so they are joined on the
document id plus the sentence text, never on `sent_id`.
"""
from __future__ import annotations

import gzip
import json
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from norlm.errors import warn
from norlm.evaluate.readers import DataError

SPLITS = ("train", "dev", "test")
POLARITIES = ("Positive", "Negative", "Neutral", None)


@dataclass
class Opinion:
    """One opinion as char spans: holder, target and expression are lists of (begin, end, string)."""

    holder: list[tuple[int, int, str]]
    target: list[tuple[int, int, str]]
    expression: list[tuple[int, int, str]]
    polarity: str | None


@dataclass
class Negation:
    cue: list[tuple[int, int, str]]
    scope: list[tuple[int, int, str]]
    affixal: bool = False


@dataclass
class Sentence:
    """A sentence of either dataset; `raw` keeps the JSON record for lossless writing."""

    sent_id: str
    text: str
    opinions: list[Opinion] = field(default_factory=list)
    negations: list[Negation] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    @property
    def tokens(self) -> list[str]:
        return self.text.split(" ")

    @property
    def doc(self) -> str:
        return self.sent_id.split("-")[0]


def token_offsets(text: str) -> list[tuple[int, int]]:
    """(begin, end) of each single-space separated token (NLTK SpaceTokenizer spans)."""
    spans, start = [], 0
    for tok in text.split(" "):
        spans.append((start, start + len(tok)))
        start += len(tok) + 1
    return spans


def _spans(field_value, where: str, text: str) -> list[tuple[int, int, str]]:
    """[[strings], ["b:e", ...]] -> [(b, e, string)], each offset pair inside the sentence text."""
    if not isinstance(field_value, list) or len(field_value) != 2 or not all(isinstance(x, list) for x in field_value):
        raise ValueError(f"{where}: expected [[strings], [\"b:e\", ...]]")
    strings, offsets = field_value
    if len(strings) != len(offsets):
        raise ValueError(f"{where}: {len(strings)} strings but {len(offsets)} offsets")
    out = []
    for string, off in zip(strings, offsets):
        b, sep, e = str(off).partition(":")
        if not sep or not b.isdigit() or not e.isdigit():
            raise ValueError(f"{where}: offset {off!r} is not \"begin:end\"")
        b, e = int(b), int(e)
        if not b <= e <= len(text):
            raise ValueError(f"{where}: offset {off!r} outside the sentence (0:{len(text)})")
        if not isinstance(string, str):
            raise ValueError(f"{where}: span string {string!r} is not a string")
        out.append((b, e, string))
    return out


def _load_list(path: Path) -> list:
    """The top-level JSON list of a dataset file; bad bytes, truncation and bad JSON named with the line."""
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{path}: truncated or corrupt file ({type(exc).__name__}: {exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(f"{path}:{line}: invalid UTF-8 byte 0x{raw[exc.start]:02x}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}; a truncated file?)") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of sentences, found a {type(data).__name__}")
    return data


def _check_text(rec, where: str) -> tuple[str, str]:
    if not isinstance(rec, dict):
        raise ValueError(f"{where}: a {type(rec).__name__}, expected an object with sent_id and text")
    sid, text = rec.get("sent_id"), rec.get("text")
    if not isinstance(sid, str) or not isinstance(text, str) or not text:
        raise ValueError(f"{where}: needs string sent_id and non-empty text")
    return sid, text


def _read_records(path: Path, build) -> tuple[list[Sentence], int]:
    """Every record through `build(rec, sid, text, where)`; bad records are counted, named and skipped."""
    out, skipped, seen = [], 0, {}
    for i, rec in enumerate(_load_list(path)):
        where = f"{path}: record {i}"
        try:
            sid, text = _check_text(rec, where)
            where = f"{where} ({sid})"
            if sid in seen:
                raise ValueError(f"{where}: sent_id repeats record {seen[sid]}")
            out.append(build(rec, sid, text, where))
            seen[sid] = i
        except KeyError as exc:
            skipped += 1
            warn(f"{where}: missing key {exc}; record skipped")
        except (ValueError, TypeError) as exc:
            skipped += 1
            warn(f"{exc}; record skipped")
    if not out:
        raise DataError(f"{path}: no usable sentence")
    return out, skipped


def _items(rec: dict, key: str, where: str) -> list:
    items = rec.get(key, [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise ValueError(f"{where}: {key} must be a list of objects")
    return items


def _fine_sentence(rec: dict, sid: str, text: str, where: str) -> Sentence:
    ops = []
    for j, op in enumerate(_items(rec, "opinions", where)):
        at = f"{where} opinion {j}"
        if "Polarity" not in op:
            raise ValueError(f"{at}: missing key 'Polarity'")
        if op["Polarity"] not in POLARITIES:
            raise ValueError(f"{at}: unknown Polarity {op['Polarity']!r} (known: Positive, Negative, Neutral, null)")
        ops.append(Opinion(_spans(op["Source"], at + " Source", text), _spans(op["Target"], at + " Target", text),
                           _spans(op["Polar_expression"], at + " Polar_expression", text), op["Polarity"]))
    return Sentence(sid, text, opinions=ops, raw=rec)


def _neg_sentence(rec: dict, sid: str, text: str, where: str) -> Sentence:
    negs = []
    for j, neg in enumerate(_items(rec, "negations", where)):
        at = f"{where} negation {j}"
        negs.append(Negation(_spans(neg["Cue"], at + " Cue", text), _spans(neg["Scope"], at + " Scope", text),
                             bool(neg.get("Affixal", False))))
    return Sentence(sid, text, negations=negs, raw=rec)


def read_fine(path: str | Path) -> tuple[list[Sentence], int]:
    """NoReC_fine JSON -> sentences; returns (sentences, skipped records). Bad records are reported."""
    return _read_records(Path(path), _fine_sentence)


def read_neg(path: str | Path) -> tuple[list[Sentence], int]:
    """NoReC_neg JSON -> sentences; returns (sentences, skipped records)."""
    return _read_records(Path(path), _neg_sentence)


def fine_path(data_dir: str | Path, split: str) -> Path:
    return _existing(Path(data_dir) / "norec_fine" / f"{split}.json")


def neg_path(data_dir: str | Path, split: str) -> Path:
    return _existing(Path(data_dir) / "norec_neg" / "data" / f"negation_{split}.json")


def starsem_path(data_dir: str | Path, split: str) -> Path:
    return _existing(Path(data_dir) / "norec_neg" / "modeling" / "evaluation" / f"neg_{split}.starsem")


def _existing(path: Path) -> Path:
    """The plain file or its .gz twin (bundled data is gzip-compressed)."""
    gz = path.with_name(path.name + ".gz")
    return path if path.exists() or not gz.exists() else gz


def join_on_doc_text(fine: list[Sentence], neg: list[Sentence]) -> tuple[list[tuple[Sentence, Sentence]], int, int]:
    """Pair sentences of the two datasets by (document, text), never by sent_id.

    Repeated texts in one document are paired in order.  Returns (pairs in `fine` order, unpaired
    fine sentences, unpaired neg sentences)."""
    pool: dict[tuple[str, str], list[Sentence]] = defaultdict(list)
    for s in neg:
        pool[(s.doc, s.text)].append(s)
    pairs, unpaired = [], 0
    for s in fine:
        bucket = pool.get((s.doc, s.text))
        if bucket:
            pairs.append((s, bucket.pop(0)))
        else:
            unpaired += 1
    return pairs, unpaired, sum(len(v) for v in pool.values())


def write_fine_json(path: str | Path, sentences: list[dict]) -> None:
    """Dataset-format JSON (a list of {sent_id, text, opinions}) written atomically."""
    from norlm.files import atomic_open

    with atomic_open(path) as fh:
        json.dump(sentences, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
