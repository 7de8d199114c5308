"""Text clean-up shared by every reader: decoding, Unicode normalisation, detokenisation.

Raw Norwegian sources mix UTF-8 and Latin-1, carry control characters and come tokenised
("ord , ord ."); everything that leaves a reader goes through these functions so the corpus has
one spelling of whitespace, quotes and accents.
"""
from __future__ import annotations

import re
import unicodedata

from norlm.errors import StageError

FALLBACK_ENCODING = "iso-8859-15"  # what NorBERT's recode.sh assumed for NAK <= 2011

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028\u2029\ufeff\ufffe]")
_SPACE = re.compile(r"\s+")

# detokenisation: no space before these, no space after the openers
_NO_SPACE_BEFORE = set(",.;:!?%)]}»”’…") | {"...", "''", "n't"}
_NO_SPACE_AFTER = set("([{«“‘")
_STRAIGHT_QUOTES = {'"', "'"}


class DecodeError(StageError, ValueError):
    """A line that is not valid in the declared encoding."""


def decode(raw: bytes, encoding: str) -> tuple[str, bool]:
    """Decode one line; `encoding="auto"` tries UTF-8 then ISO-8859-15.

    Returns (text, fell_back).  A strict encoding raises DecodeError on invalid bytes.
    """
    if encoding == "auto":
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            return raw.decode(FALLBACK_ENCODING), True
    try:
        return raw.decode(encoding), False
    except UnicodeDecodeError as exc:
        raise DecodeError(f"invalid {encoding} at byte {exc.start}") from None


def clean(text: str) -> str:
    """NFC, control characters removed, every whitespace run turned into one space, stripped."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    return _SPACE.sub(" ", text).strip()


def detokenize(tokens: list[str]) -> str:
    """Join tokens with the spacing of running text ("ord , ord ." -> "ord, ord.")."""
    out: list[str] = []
    glue_next = False
    open_quote = {'"': False, "'": False}
    for tok in tokens:
        if not tok:
            continue
        if tok in _STRAIGHT_QUOTES:
            closing = open_quote[tok]
            open_quote[tok] = not closing
            if closing:
                if out:
                    out[-1] += tok
                else:
                    out.append(tok)
                glue_next = False
            else:
                if glue_next and out:
                    out[-1] += tok
                else:
                    out.append(tok)
                glue_next = True
            continue
        if out and (glue_next or tok in _NO_SPACE_BEFORE):
            out[-1] += tok
        else:
            out.append(tok)
        glue_next = tok in _NO_SPACE_AFTER
    return " ".join(out)


def words(sentence: str) -> int:
    """Word tokens as the corpus statistics count them (whitespace-separated)."""
    return len(sentence.split())


def dedup_key(sentence: str) -> str:
    """The form under which two sentences count as the same line: case-folded, single-spaced."""
    return " ".join(sentence.casefold().split())
