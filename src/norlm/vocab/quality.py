"""Structural checks of a WordPiece vocabulary: id layout, entry kinds, duplicates, empty lines and
entries BERT's tokenizer can never produce.

"Unreachable" is decided from an entry's characters, with the same normalizer and pre-tokenizer the
tokenizer uses: BERT cleans the text and splits off every punctuation character *before* WordPiece
runs, so a word-initial entry must survive that step as one word, and a ``##`` entry must be able
to stay glued to a preceding letter.  (Entries that are reachable in principle but always lose to
a longer greedy match are not counted.)
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from tokenizers import pre_tokenizers

from norlm.vocab.tokenizer import MAX_CHARS_PER_WORD, bert_normalizer
from norlm.vocab.vocab_file import SPECIALS, VocabFile

UNUSED_RE = re.compile(r"^\[unused(\d+)\]$")
NORWEGIAN_LETTERS = set("æøåÆØÅ")

_NORMALIZER = bert_normalizer()
_PRE_TOKENIZER = pre_tokenizers.BertPreTokenizer()


def kind_of(token: str) -> str:
    """special | unused | empty | continuation | word-initial."""
    if token in SPECIALS:
        return "special"
    if UNUSED_RE.match(token):
        return "unused"
    if token == "":
        return "empty"
    if token.startswith("##"):
        return "continuation"
    return "word-initial"


def _splits_as_one(text: str) -> bool:
    """True when BERT's cleaning and pre-splitting leave `text` as exactly one word, unchanged."""
    if _NORMALIZER.normalize_str(text) != text:
        return False
    words = _PRE_TOKENIZER.pre_tokenize_str(text)
    return len(words) == 1 and words[0][0] == text


def unreachable_reason(token: str) -> str | None:
    """Why BERT's tokenizer can never emit this learned entry, or None if it can."""
    kind = kind_of(token)
    if kind not in ("word-initial", "continuation"):
        return None
    body = token[2:] if kind == "continuation" else token
    if not body:
        return "empty continuation"
    if any(ch.isspace() for ch in body) or len(_NORMALIZER.normalize_str(body)) < len(body):
        return "whitespace or control character"
    probe = "a" + body if kind == "continuation" else body
    if len(probe) > MAX_CHARS_PER_WORD:
        return f"longer than {MAX_CHARS_PER_WORD} characters"
    if _splits_as_one(probe):
        return None
    if kind == "continuation":
        return "## + punctuation or CJK"
    return "punctuation or CJK inside a multi-character piece"


@dataclass
class VocabQuality:
    """Everything `vocab-check` and the vocab report say about one file."""

    path: str
    lines: int
    distinct: int
    kinds: dict[str, int]
    specials: dict[str, int | None]  # id each special ends up with (last occurrence), None if missing
    unused_ids: list[int]  # sorted ids of [unusedN] entries
    reserved_unused: int  # N of the block [unused0..N-1] at ids 1..N
    filler_unused: int  # [unused] entries elsewhere (NorBERT filled removed lines with them)
    layout_ok: bool  # [PAD]=0, [unused0..N-1]=1..N, [UNK] [CLS] [SEP] [MASK]=N+1..N+4
    empty_lines: list[int]
    duplicates: dict[str, list[int]]  # token -> all its line indices (only tokens seen twice or more)
    unreachable: dict[str, int]  # reason -> count
    unreachable_examples: dict[str, list[str]]
    with_upper: int
    with_norwegian_letters: int
    problems: list[str] = field(default_factory=list)

    @property
    def unreachable_total(self) -> int:
        return sum(self.unreachable.values())

    @property
    def usable(self) -> int:
        """Learned entries BERT can emit."""
        return self.kinds.get("word-initial", 0) + self.kinds.get("continuation", 0) - self.unreachable_total

    def to_json(self) -> dict:
        return {
            "path": self.path, "lines": self.lines, "distinct_entries": self.distinct, "kinds": self.kinds,
            "special_ids": self.specials, "unused": len(self.unused_ids),
            "unused_id_range": [self.unused_ids[0], self.unused_ids[-1]] if self.unused_ids else None,
            "reserved_unused": self.reserved_unused, "filler_unused": self.filler_unused,
            "layout_ok": self.layout_ok, "empty_lines": self.empty_lines,
            "duplicate_tokens": len(self.duplicates),
            "duplicate_extra_lines": sum(len(v) - 1 for v in self.duplicates.values()),
            "duplicate_examples": {k: v for k, v in list(self.duplicates.items())[:10]},
            "unreachable_total": self.unreachable_total, "unreachable_by_reason": self.unreachable,
            "unreachable_examples": self.unreachable_examples, "usable_learned_entries": self.usable,
            "with_upper_case": self.with_upper, "with_ae_oe_aa": self.with_norwegian_letters,
            "problems": self.problems,
        }


def _leading_unused(vf: VocabFile) -> int:
    """How many [unused0], [unused1], ... follow [PAD] directly (the block BERT reserves)."""
    n = 0
    while n + 1 < len(vf.lines) and vf.lines[n + 1] == f"[unused{n}]" and vf.ids[vf.lines[n + 1]] == n + 1:
        n += 1
    return n


def analyse(vf: VocabFile, examples: int = 8) -> VocabQuality:
    """Run every check on a vocabulary read with `vocab_file.read_vocab`."""
    kinds = Counter(kind_of(t) for t in vf.ids)  # distinct tokens, by kind
    specials = {s: vf.ids.get(s) for s in SPECIALS}
    unused_ids = sorted(i for t, i in vf.ids.items() if UNUSED_RE.match(t))
    reserved = _leading_unused(vf)
    expected = {"[PAD]": 0, "[UNK]": reserved + 1, "[CLS]": reserved + 2, "[SEP]": reserved + 3,
                "[MASK]": reserved + 4}
    positions: dict[str, list[int]] = {}
    for i, tok in enumerate(vf.lines):
        positions.setdefault(tok, []).append(i)
    duplicates = {t: p for t, p in positions.items() if len(p) > 1 and t != ""}
    empty_lines = positions.get("", [])
    unreachable: Counter[str] = Counter()
    unreachable_examples: dict[str, list[str]] = {}
    for tok in vf.ids:
        reason = unreachable_reason(tok)
        if reason:
            unreachable[reason] += 1
            unreachable_examples.setdefault(reason, [])
            if len(unreachable_examples[reason]) < examples:
                unreachable_examples[reason].append(tok)
    learned = [t for t in vf.ids if kind_of(t) in ("word-initial", "continuation")]
    q = VocabQuality(
        path=vf.path, lines=len(vf.lines), distinct=len(vf.ids), kinds=dict(sorted(kinds.items())),
        specials=specials, unused_ids=unused_ids,
        reserved_unused=reserved, filler_unused=len(unused_ids) - reserved, layout_ok=specials == expected,
        empty_lines=empty_lines, duplicates=duplicates, unreachable=dict(sorted(unreachable.items())),
        unreachable_examples=unreachable_examples,
        with_upper=sum(1 for t in learned if any(c.isupper() for c in t)),
        with_norwegian_letters=sum(1 for t in learned if NORWEGIAN_LETTERS & set(t)),
    )
    missing = [s for s, i in specials.items() if i is None]
    if missing:
        q.problems.append(f"missing special tokens: {', '.join(missing)}")
    if not q.layout_ok:
        q.problems.append("id layout differs from [PAD]=0, [unused0..N-1]=1..N, [UNK] [CLS] [SEP] [MASK]=N+1..N+4")
    if q.filler_unused:
        q.problems.append(f"{q.filler_unused} [unused] filler entries outside the reserved block")
    if empty_lines:
        q.problems.append(f"{len(empty_lines)} empty line(s) at index {', '.join(map(str, empty_lines[:10]))}")
    if duplicates:
        extra = sum(len(v) - 1 for v in duplicates.values())
        q.problems.append(f"{len(duplicates)} token(s) occur more than once ({extra} shadowed line(s))")
    if q.unreachable_total:
        q.problems.append(f"{q.unreachable_total} learned entries can never be produced by BERT's tokenizer")
    return q


def format_quality(q: VocabQuality) -> str:
    """A readable table of the checks."""
    rows = [
        ("file", q.path), ("lines", f"{q.lines:,}"), ("distinct entries", f"{q.distinct:,}"),
        *[(f"  {k}", f"{v:,}") for k, v in q.kinds.items()],
        ("special ids", " ".join(f"{s}={i}" for s, i in q.specials.items())),
        ("[unused] reserved", f"{q.reserved_unused:,} (ids 1..{q.reserved_unused})"),
        ("[unused] fillers", f"{q.filler_unused:,}" + (f" (ids up to {q.unused_ids[-1]})" if q.filler_unused else "")),
        ("id layout", "ok" if q.layout_ok else "NOT the BERT layout"),
        ("empty lines", f"{len(q.empty_lines)}" + (f" (index {', '.join(map(str, q.empty_lines[:5]))})"
                                                   if q.empty_lines else "")),
        ("duplicated tokens", f"{len(q.duplicates):,}"),
        ("unreachable entries", f"{q.unreachable_total:,}"),
        *[(f"  {r}", f"{n:,}  e.g. {' '.join(repr(x) for x in q.unreachable_examples[r][:4])}")
          for r, n in q.unreachable.items()],
        ("usable learned entries", f"{q.usable:,}"),
        ("with upper case / æøå", f"{q.with_upper:,} / {q.with_norwegian_letters:,}"),
    ]
    width = max(len(r[0]) for r in rows)
    out = [f"{k:<{width}}  {v}" for k, v in rows]
    out.append("verdict".ljust(width) + "  " + ("clean" if not q.problems else "; ".join(q.problems)))
    return "\n".join(out)
