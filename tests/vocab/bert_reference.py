"""An independent pure-Python model of BERT's cased tokenizer (basic + WordPiece), for parity tests.

Written from the description of Google's `tokenization.py` (bert-recipe §1.3), without tokenizers
or transformers, so that agreement with our `tokenizers`-based tokenizer means something.
"""
from __future__ import annotations

import unicodedata


def load_vocab(path) -> dict[str, int]:
    """strip() every line; a repeated token keeps the id of its last line."""
    vocab: dict[str, int] = {}
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for index, line in enumerate(lines):
        vocab[line.strip()] = index
    return vocab


def is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch: str) -> bool:
    """Google's definition: categories Cc and Cf only (private-use Co and unassigned Cn are kept)."""
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text: str) -> list[str]:
    """Clean, isolate CJK ideographs, split on whitespace, split off punctuation (no lower-casing)."""
    cleaned = []
    for ch in text:
        if ord(ch) in (0, 0xFFFD) or is_control(ch):
            continue
        if is_whitespace(ch):
            cleaned.append(" ")
        elif is_cjk(ord(ch)):
            cleaned.append(f" {ch} ")
        else:
            cleaned.append(ch)
    words = []
    for chunk in "".join(cleaned).split():
        current = ""
        for ch in chunk:
            if is_punctuation(ch):
                if current:
                    words.append(current)
                    current = ""
                words.append(ch)
            else:
                current += ch
        if current:
            words.append(current)
    return words


def wordpiece(word: str, vocab: dict[str, int], unk: str = "[UNK]", max_chars: int = 100) -> list[str]:
    """Greedy longest-match-first; any unmatchable span or an over-long word gives one [UNK]."""
    if len(word) > max_chars:
        return [unk]
    pieces = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            candidate = word[start:end] if start == 0 else "##" + word[start:end]
            if candidate in vocab:
                found = candidate
                break
            end -= 1
        if found is None:
            return [unk]
        pieces.append(found)
        start = end
    return pieces


def encode(text: str, vocab: dict[str, int]) -> list[int]:
    """Ids of `[CLS] text [SEP]`."""
    ids = [vocab["[CLS]"]]
    for word in basic_tokenize(text):
        ids.extend(vocab[p] for p in wordpiece(word, vocab))
    ids.append(vocab["[SEP]"])
    return ids
