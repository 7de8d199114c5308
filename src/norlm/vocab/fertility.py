"""How well a vocabulary fits held-out text: pieces per word (fertility) and [UNK] rate.

The held-out text is the UD 2.7 Norwegian test sets: their gold word forms are the "words", and each
form is tokenised by the BERT tokenizer (which may still split punctuation inside a form).
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from norlm import conll


@dataclass(frozen=True)
class Treebank:
    name: str
    sentences: list[list[str]]  # word forms per sentence


def read_conllu_forms(path: str | os.PathLike) -> list[list[str]]:
    """Word forms of every sentence (multi-word token ranges and empty nodes left out)."""
    return [s.column("form") for s in conll.read_sentences(path, "conllu")]


def treebank_name(path: Path) -> str:
    """'UD_Norwegian-Bokmaal/no_bokmaal-ud-test.conllu.gz' -> 'Bokmaal'."""
    return path.parent.name.split("-", 1)[-1] if "-" in path.parent.name else path.name.split(".")[0]


def read_treebanks(paths: list[Path]) -> list[Treebank]:
    return [Treebank(treebank_name(p), read_conllu_forms(p)) for p in paths]


def fertility(tokenizer: Tokenizer, sentences: list[list[str]]) -> dict[str, float | int]:
    """Words, pieces, pieces per word, share of words split, and [UNK] counts for one text."""
    unk_id = tokenizer.token_to_id("[UNK]")
    words = pieces = split_words = unk_pieces = unk_words = 0
    unk_forms: Counter[str] = Counter()
    encodings = tokenizer.encode_batch(sentences, is_pretokenized=True, add_special_tokens=False)
    for sentence, enc in zip(sentences, encodings):
        per_word = [0] * len(sentence)
        has_unk = [False] * len(sentence)
        for word_id, token_id in zip(enc.word_ids, enc.ids):
            per_word[word_id] += 1
            if token_id == unk_id:
                has_unk[word_id] = True
                unk_pieces += 1
        words += len(sentence)
        pieces += sum(per_word)
        split_words += sum(1 for n in per_word if n > 1)
        unk_words += sum(has_unk)
        unk_forms.update(form for form, unk in zip(sentence, has_unk) if unk)
    return {
        "words": words, "pieces": pieces, "fertility": round(pieces / max(words, 1), 4),
        "split_word_share": round(split_words / max(words, 1), 4),
        "unk_pieces": unk_pieces, "unk_word_rate": round(unk_words / max(words, 1), 6),
        "unk_words_top": unk_forms.most_common(10),
    }
