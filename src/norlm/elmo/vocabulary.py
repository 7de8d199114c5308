"""The ELMo target vocabulary: `<S>`, `</S>`, `<UNK>`, then words by descending frequency.

The order matters: the log-uniform sampler of the sampled softmax assumes id order equals
frequency order.  Ties are broken by the word itself so the file is deterministic.
"""
from __future__ import annotations

import os
from collections import Counter

from norlm.elmo.chars import BOS_TOKEN, EOS_TOKEN, UNK_TOKEN

SPECIALS = (BOS_TOKEN, EOS_TOKEN, UNK_TOKEN)


def top_words(counts: Counter, size: int, min_count: int = 1) -> list[str]:
    """The `size` most frequent words (count >= min_count), most frequent first, ties alphabetical."""
    items = [(w, c) for w, c in counts.items() if c >= min_count and w not in SPECIALS]
    items.sort(key=lambda wc: (-wc[1], wc[0]))
    return [w for w, _ in items[:size]]


def load_vocab(path: str | os.PathLike) -> list[str]:
    """Read a vocab.txt; it must start with <S>, </S>, <UNK> (a clear error otherwise)."""
    with open(path, encoding="utf-8") as fh:
        words = [line.rstrip("\n") for line in fh if line.rstrip("\n") != "!!!MAXTERMID"]
    if tuple(words[:3]) != SPECIALS:
        raise ValueError(f"{path}:1: an ELMo vocabulary must start with <S>, </S>, <UNK>; got {words[:3]}")
    if len(set(words)) != len(words):
        dup = next(w for i, w in enumerate(words) if w in words[:i])
        raise ValueError(f"{path}:{words.index(dup, words.index(dup) + 1) + 1}: duplicate word {dup!r}")
    return words


class WordIds:
    """word -> id lookup with OOV -> <UNK>."""

    def __init__(self, words: list[str]):
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}
        self.unk = self.index[UNK_TOKEN]

    def __len__(self) -> int:
        return len(self.words)

    def __call__(self, word: str) -> int:
        return self.index.get(word, self.unk)
