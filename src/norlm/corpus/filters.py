"""Sentence filters; each returns the reason a sentence is dropped (counted in stats.json)."""
from __future__ import annotations


_FIRST_NON_LATIN = "\u0250"  # below it, every letter is Basic Latin, Latin-1 or Latin Extended-A/B


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
    letters = sum(map(str.isalpha, sentence))  # counted in C: this runs once per sentence of the corpus
    visible = n - sentence.count(" ")
    if not letters or letters < f.min_letter_ratio * visible:
        return "non-letters"
    if max(sentence) < _FIRST_NON_LATIN:  # every letter is Latin (the common case)
        return None
    latin = sum(1 for ch in sentence if ch.isalpha() and _is_latin(ch))
    if latin < f.min_latin_ratio * letters:
        return "wrong-script"
    return None
