"""Sentence filters; each returns the reason a sentence is dropped (counted in stats.json)."""
from __future__ import annotations


def _is_latin(ch: str) -> bool:
    code = ord(ch)
    return code < 0x250 or 0x1E00 <= code <= 0x1EFF or 0xFF21 <= code <= 0xFF5A


def drop_reason(sentence: str, f) -> str | None:
    """None to keep the sentence, else one of too-short, too-long, non-letters, wrong-script."""
    n = len(sentence)
    if n < f.min_chars:
        return "too-short"
    if n > f.max_chars:
        return "too-long"
    letters = [ch for ch in sentence if ch.isalpha()]
    visible = n - sentence.count(" ")
    if not letters or len(letters) < f.min_letter_ratio * visible:
        return "non-letters"
    latin = sum(1 for ch in letters if _is_latin(ch))
    if latin < f.min_latin_ratio * len(letters):
        return "wrong-script"
    return None
