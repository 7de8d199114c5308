"""Training batches: per-row continuous streams, reversed backward stream, exact state round trip."""
from __future__ import annotations

import numpy as np

from norlm.elmo.chars import CharCache
from norlm.elmo.data import BidirectionalBatches, SentenceSource, StreamBatcher
from norlm.elmo.vocabulary import WordIds


def _shard(tmp_path, lines):
    path = tmp_path / "s-0000.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_rows_are_continuous_streams(tmp_path):
    shard = _shard(tmp_path, ["a b c", "d e", "f g h i"])
    vocab = WordIds(["<S>", "</S>", "<UNK>", "a", "b", "c", "d", "e", "f", "g", "h", "i"])
    src = SentenceSource([shard], seed=1, reverse=False, shuffle=False)
    batcher = StreamBatcher(src, vocab, CharCache(10), batch_size=1, steps=4)
    chars1, next1 = batcher.next_batch()
    chars2, next2 = batcher.next_batch()
    words = vocab.words
    # </S> is never an input: after "c -> </S>" the row continues with the next sentence's <S>
    assert [words[i] for i in next1[0]] == ["a", "b", "c", "</S>"]
    assert [words[i] for i in next2[0]] == ["d", "e", "</S>", "f"]
    assert chars1[0, 0, 1] == 256 and chars2[0, 0, 1] == 256          # <S> rows start both windows
    assert chars2[0, 3, 1] == 256                                      # next sentence begins at position 3
    back = StreamBatcher(SentenceSource([shard], 1, True, False), vocab, CharCache(10), 1, 4)
    _, nb = back.next_batch()
    assert [words[i] for i in nb[0]] == ["c", "b", "a", "<S>"]


def test_state_round_trip_gives_identical_batches(elmo_corpus):
    shards = sorted(elmo_corpus.glob("*.txt.gz"))
    words = ["<S>", "</S>", "<UNK>", ".", ",", "i", "og"]

    def make():
        return BidirectionalBatches(shards, WordIds(words), 4, 20, seed=3)

    a = make()
    for _ in range(30):
        a.next_batch()
    state = a.state()
    expected = [a.next_batch() for _ in range(3)]
    b = make()
    b.restore(state)
    for exp in expected:
        got = b.next_batch()
        for key in exp:
            np.testing.assert_array_equal(got[key], exp[key])
    # forward and backward halves hold different sentences (independent shuffles)
    assert not np.array_equal(expected[0]["tokens_characters"], expected[0]["tokens_characters_reverse"][:, ::-1])
