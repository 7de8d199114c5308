"""Character ids of bilm-tf (`UnicodeCharsVocabulary`): UTF-8 bytes plus five special symbols.

Training uses the unshifted ids 0..260 (a 261-row `char_embed`); inference adds 1 so that 0 can
mean "no token" (a 262-row table whose row 0 is zeros).  Row k of the exported table therefore
always embeds training id k (elmo-format spec section 2.1).
"""
from __future__ import annotations

import numpy as np

BOS_CHAR = 256   # sentence start, inside the <S> token row
EOS_CHAR = 257   # sentence end, inside the </S> token row
BOW = 258        # begin of word
EOW = 259        # end of word
PAD = 260        # padding inside a token row (a learned vector)
N_TRAIN_CHARS = 261
N_INFER_CHARS = 262

BOS_TOKEN = "<S>"
EOS_TOKEN = "</S>"
UNK_TOKEN = "<UNK>"


def _special_row(char: int, max_chars: int) -> np.ndarray:
    row = np.full(max_chars, PAD, dtype=np.int32)
    row[:3] = (BOW, char, EOW)
    return row


def word_char_ids(word: str, max_chars: int = 50) -> np.ndarray:
    """Training char ids of one word: [BOW, bytes[:max_chars-2], EOW, PAD...] (bytes may be cut mid-character)."""
    if word == BOS_TOKEN:
        return _special_row(BOS_CHAR, max_chars)
    if word == EOS_TOKEN:
        return _special_row(EOS_CHAR, max_chars)
    data = word.encode("utf-8", "ignore")[: max_chars - 2]
    row = np.full(max_chars, PAD, dtype=np.int32)
    row[0] = BOW
    row[1:1 + len(data)] = np.frombuffer(data, dtype=np.uint8)
    row[1 + len(data)] = EOW
    return row


class CharCache:
    """Memoised `word_char_ids`; corpora repeat words, so this keeps batching cheap."""

    def __init__(self, max_chars: int = 50, limit: int = 2_000_000):
        self.max_chars = max_chars
        self.limit = limit
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, word: str) -> np.ndarray:
        row = self._cache.get(word)
        if row is None:
            row = word_char_ids(word, self.max_chars)
            if len(self._cache) < self.limit:
                self._cache[word] = row
        return row

    def sentence(self, words: list[str]) -> np.ndarray:
        """(len(words), max_chars) training ids."""
        if not words:
            return np.zeros((0, self.max_chars), dtype=np.int32)
        return np.stack([self(w) for w in words])


def batch_inference_ids(sentences: list[list[str]], max_chars: int = 50) -> np.ndarray:
    """(N, maxlen+2, max_chars) inference ids (+1 shift) with <S>/</S> added, zeros beyond each sentence."""
    cache = CharCache(max_chars)
    maxlen = max((len(s) for s in sentences), default=0)
    out = np.zeros((len(sentences), maxlen + 2, max_chars), dtype=np.int32)
    for i, sent in enumerate(sentences):
        ids = cache.sentence([BOS_TOKEN, *sent, EOS_TOKEN]) + 1
        out[i, : len(ids)] = ids
    return out
