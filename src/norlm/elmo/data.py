"""Training batches as bilm-tf builds them, but resumable (elmo-format spec section 4).

Each direction has its own infinite `SentenceSource`: shards in a random order per pass, the
sentences of a shard shuffled on load, forward sentences as `<S> w1 .. wn </S>`, backward ones as
`</S> wn .. w1 <S>`.  Each of the B batch rows consumes its own continuous stream in windows of
`unroll_steps`; a sentence that does not fit continues in the next batch.  Randomness is a pure
function of (seed, pass, shard position), so the whole position fits in a small JSON state
(source position + the unfinished sentence of every row) and a resumed run yields the very
batches the uninterrupted run would have.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from norlm.elmo.chars import BOS_TOKEN, EOS_TOKEN, CharCache
from norlm.elmo.text import ReadStats, read_sentences
from norlm.elmo.vocabulary import WordIds


def orient(words: list[str], reverse: bool) -> list[str]:
    """The token stream of one sentence for one direction."""
    if reverse:
        return [EOS_TOKEN, *reversed(words), BOS_TOKEN]
    return [BOS_TOKEN, *words, EOS_TOKEN]


class SentenceSource:
    """Endless sentences for one direction: passes over the shards, reshuffled each pass."""

    def __init__(self, shards: list[Path], seed: int, reverse: bool, shuffle: bool = True,
                 holdout: dict[str, int] | None = None):
        if not shards:
            raise ValueError("no corpus shards to train on")
        self.shards = list(shards)
        self.seed = seed
        self.reverse = reverse
        self.shuffle = shuffle
        self.holdout = holdout or {}
        self.stats = ReadStats()
        self.pass_no, self.shard_pos, self.sent_pos = 0, 0, 0
        self._loaded: tuple[int, int] | None = None
        self._sentences: list[list[str]] = []

    def _order(self) -> list[int]:
        if not self.shuffle:
            return list(range(len(self.shards)))
        return list(np.random.default_rng([self.seed, self.pass_no]).permutation(len(self.shards)))

    def _load(self) -> None:
        key = (self.pass_no, self.shard_pos)
        if self._loaded == key:
            return
        shard = self.shards[self._order()[self.shard_pos]]
        sentences = list(read_sentences(shard, self.stats))[self.holdout.get(str(shard), 0):]
        if self.shuffle:
            perm = np.random.default_rng([self.seed, self.pass_no, self.shard_pos, 1]).permutation(len(sentences))
            sentences = [sentences[i] for i in perm]
        self._sentences, self._loaded = sentences, key

    def next(self) -> list[str]:
        """The next sentence, already oriented (with <S>/</S>)."""
        for _ in range(2 * len(self.shards) + 1):
            self._load()
            if self.sent_pos < len(self._sentences):
                words = self._sentences[self.sent_pos]
                self.sent_pos += 1
                return orient(words, self.reverse)
            self.sent_pos = 0
            self.shard_pos += 1
            if self.shard_pos == len(self.shards):
                self.shard_pos, self.pass_no = 0, self.pass_no + 1
        raise ValueError(f"no sentences in any of the {len(self.shards)} training shard(s)")

    def state(self) -> dict[str, int]:
        return {"pass": self.pass_no, "shard_pos": self.shard_pos, "sent_pos": self.sent_pos}

    def restore(self, state: dict[str, int]) -> None:
        self.pass_no, self.shard_pos, self.sent_pos = state["pass"], state["shard_pos"], state["sent_pos"]


@dataclass
class _Row:
    words: list[str]
    offset: int = 0


class StreamBatcher:
    """B rows of continuous text for one direction, `steps` positions per batch.

    `rows` (default all B) are the rows whose ids are built: a worker of a multi-worker job walks the
    streams of the whole global batch (cheap: offsets only) but turns only its own rows into arrays.
    """

    def __init__(self, source: SentenceSource, vocab: WordIds, chars: CharCache, batch_size: int, steps: int,
                 rows: range | None = None):
        self.source, self.vocab, self.chars = source, vocab, chars
        self.batch_size, self.steps = batch_size, steps
        self.mine = rows if rows is not None else range(batch_size)
        self.rows: list[_Row | None] = [None] * batch_size

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """(chars (len(rows), T, C) training ids, next-word targets (len(rows), T))."""
        b, t, mine = self.batch_size, self.steps, self.mine
        char_ids = np.empty((len(mine), t, self.chars.max_chars), dtype=np.int32)
        targets = np.empty((len(mine), t), dtype=np.int32)
        for i in range(b):
            pos, out = 0, i - mine.start if i in mine else None
            while pos < t:
                row = self.rows[i]
                if row is None or len(row.words) - row.offset <= 1:
                    row = self.rows[i] = _Row(self.source.next())
                how_many = min(len(row.words) - row.offset - 1, t - pos)
                if out is not None:
                    window = row.words[row.offset: row.offset + how_many + 1]
                    char_ids[out, pos: pos + how_many] = self.chars.sentence(window[:-1])
                    targets[out, pos: pos + how_many] = [self.vocab(w) for w in window[1:]]
                row.offset += how_many
                pos += how_many
        return char_ids, targets

    def state(self) -> dict[str, Any]:
        rows = [None if r is None else {"words": r.words[r.offset:]} for r in self.rows]
        return {"source": self.source.state(), "rows": rows}

    def restore(self, state: dict[str, Any]) -> None:
        self.source.restore(state["source"])
        if len(state["rows"]) != self.batch_size:
            raise ValueError(f"checkpoint has {len(state['rows'])} stream rows, config batch_size is {self.batch_size}")
        self.rows = [None if r is None else _Row(list(r["words"])) for r in state["rows"]]


class BidirectionalBatches:
    """Independent forward and backward streams (different sentences per row, as in bilm-tf); `rows`
    as in StreamBatcher."""

    def __init__(self, shards: list[Path], vocab: WordIds, batch_size: int, steps: int, seed: int,
                 max_chars: int = 50, shuffle: bool = True, holdout: dict[str, int] | None = None,
                 rows: range | None = None):
        chars = CharCache(max_chars)
        self.forward = StreamBatcher(SentenceSource(shards, seed * 2 + 0, False, shuffle, holdout),
                                     vocab, chars, batch_size, steps, rows)
        self.backward = StreamBatcher(SentenceSource(shards, seed * 2 + 1, True, shuffle, holdout),
                                      vocab, chars, batch_size, steps, rows)

    def next_batch(self) -> dict[str, np.ndarray]:
        fw_chars, fw_next = self.forward.next_batch()
        bw_chars, bw_next = self.backward.next_batch()
        return {"tokens_characters": fw_chars, "next_token_id": fw_next,
                "tokens_characters_reverse": bw_chars, "next_token_id_reverse": bw_next}

    def state(self) -> dict[str, Any]:
        return {"forward": self.forward.state(), "backward": self.backward.state()}

    def restore(self, state: dict[str, Any]) -> None:
        self.forward.restore(state["forward"])
        self.backward.restore(state["backward"])

    def skipped(self) -> ReadStats:
        return self.forward.source.stats


def heldout_sentences(shard: Path, n: int) -> list[list[str]]:
    """The first n sentences of a shard (the held-out set; training skips them)."""
    out = []
    for words in read_sentences(shard):
        if len(out) == n:
            break
        out.append(words)
    return out


def padded_lm_batch(sentences: list[list[str]], vocab: WordIds, chars: CharCache, reverse: bool):
    """Zero-state evaluation batch: inputs (N, L, C), targets (N, L), target mask (N, L)."""
    streams = [orient(s, reverse) for s in sentences]
    length = max(len(s) for s in streams) - 1
    n = len(streams)
    char_ids = np.full((n, length, chars.max_chars), 0, dtype=np.int32)
    targets = np.zeros((n, length), dtype=np.int32)
    mask = np.zeros((n, length), dtype=np.float32)
    for i, s in enumerate(streams):
        char_ids[i, : len(s) - 1] = chars.sentence(s[:-1])
        targets[i, : len(s) - 1] = [vocab(w) for w in s[1:]]
        mask[i, : len(s) - 1] = 1.0
    return char_ids, targets, mask
