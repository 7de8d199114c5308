"""Sentence-pair instances of bert-recipe §1.4, computed for all documents at once with numpy.

The reference walks each document in Python.  Here every (pass, document) is a lane of a
vectorised state machine: in each round, every lane whose document still has sentences left forms
its next chunk (cumulative sentence lengths + `searchsorted`), draws its A/B split and random-next
decision, and advances its sentence pointer (rewinding over unused sentences after a random
next, as the reference "puts them back").  A round costs a few numpy calls over all documents;
the number of rounds is the number of chunks in the longest document.

An instance is five numbers (`a_start, a_len, b_start, b_len, is_random_next`) pointing into the
shard's flat id array; token ids are gathered only when a batch is written (`assemble`).
Truncation (§1.4.6) is done in closed form: the reference removes tokens one at a time from the
longer side (B on ties), so the final lengths depend only on the input lengths; each removal
takes the first or last token with probability 1/2, so the number taken from the front is
Binomial(removed, 1/2) and the result is a slice.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from norlm.bert.data.shard_tokens import ShardTokens

RANDOM_DOC_TRIES = 10  # the reference tries this often to find a document other than the current one


@dataclass
class Pairs:
    """Instances of one or more passes (all arrays have one entry per instance)."""

    a_start: np.ndarray  # int64, offset into ShardTokens.tokens
    a_len: np.ndarray  # int32
    b_start: np.ndarray  # int64
    b_len: np.ndarray  # int32
    is_random_next: np.ndarray  # bool (label 1)
    single_chunk: np.ndarray  # bool: the chunk had one sentence, so B had to be random
    same_doc: np.ndarray  # bool: no other document found; NVIDIA labels it IsNext (§1.4.4)
    short_target: np.ndarray  # bool: the document's target length was drawn short in this pass
    short_docs: int = 0  # documents (per pass) whose target was drawn short
    doc_passes: int = 0  # documents x passes

    def __len__(self) -> int:
        return len(self.a_len)

    def take(self, index: np.ndarray) -> "Pairs":
        return Pairs(*(getattr(self, name)[index] for name in _ARRAYS), self.short_docs, self.doc_passes)

    @staticmethod
    def concat(parts: list["Pairs"]) -> "Pairs":
        if not parts:
            return empty_pairs()
        arrays = [np.concatenate([getattr(p, name) for p in parts]) for name in _ARRAYS]
        return Pairs(*arrays, sum(p.short_docs for p in parts), sum(p.doc_passes for p in parts))


_ARRAYS = ("a_start", "a_len", "b_start", "b_len", "is_random_next", "single_chunk", "same_doc", "short_target")


def empty_pairs() -> Pairs:
    i64, i32, b = np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, bool)
    return Pairs(i64, i32, i64.copy(), i32.copy(), b, b.copy(), b.copy(), b.copy())


def _chunk_end(csum: np.ndarray, first: np.ndarray, target: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Last sentence of a chunk starting at `first`: the first one that brings the token count to
    `target`, or the document's last sentence `last` (inclusive indices)."""
    end = np.searchsorted(csum, csum[first] + target, side="left") - 1
    return np.clip(end, first, last)


def make_pairs(shard: ShardTokens, max_seq_length: int, short_seq_prob: float, rng: np.random.Generator) -> Pairs:
    """One pass (§1.4 steps 1-6) over every document of the shard."""
    return make_pairs_passes(shard, max_seq_length, short_seq_prob, [rng])


def make_pairs_passes(shard: ShardTokens, max_seq_length: int, short_seq_prob: float,
                      rngs: list[np.random.Generator]) -> Pairs:
    """Several passes at once, pass q drawing only from rngs[q] (so the result does not depend on
    how passes are grouped).  Each (pass, document) is a lane; the uniform numbers a lane needs
    for its k-th chunk are drawn up front per pass into slot `doc_first + k` (a document has at
    most as many chunks as sentences), so one round of numpy calls serves every pass."""
    max_num_tokens = max_seq_length - 3
    if max_num_tokens < 2:
        raise ValueError(f"max_seq_length {max_seq_length} leaves no room for two segments")
    n_docs, n_sent_total = shard.num_docs, shard.num_sentences
    if n_docs == 0 or not rngs:
        return empty_pairs()
    g = len(rngs)
    csum = shard.sent_off
    doc_first = shard.doc_sent[:-1]
    doc_last = shard.doc_sent[1:] - 1

    short, target, u = _pass_draws(rngs, n_docs, n_sent_total, short_seq_prob, max_num_tokens)

    lane_doc = np.tile(np.arange(n_docs), g)
    lane_pass = np.repeat(np.arange(g), n_docs)
    pointer = np.tile(doc_first, g)
    round_no = 0
    active = np.arange(g * n_docs)
    out: list[tuple[np.ndarray, ...]] = []
    while active.size:
        doc = lane_doc[active]
        first, last, tgt = pointer[active], doc_last[doc], target[active]
        end = _chunk_end(csum, first, tgt, last)
        n_sent = end - first + 1
        slot = lane_pass[active] * n_sent_total + doc_first[doc] + round_no
        u_split, u_coin, u_start, u_doc = u[0, slot], u[1, slot], u[2, slot], u[3, slot]
        a_end = np.where(n_sent >= 2, 1 + np.floor(u_split * (n_sent - 1)).astype(np.int64), 1)
        single = n_sent == 1
        random_next = single | (u_coin < 0.5)

        a_start = csum[first]
        a_len = csum[first + a_end] - a_start
        # actual next: the rest of the chunk
        b_start = csum[first + a_end].copy()
        b_len = csum[end + 1] - b_start
        nxt = end + 1
        same = np.zeros(active.size, bool)

        r = np.flatnonzero(random_next)
        if r.size:
            other = _other_documents(u_doc[r], doc[r], lane_pass[active[r]], rngs, n_docs)
            same[r] = other == doc[r]
            o_first, o_last = doc_first[other], doc_last[other]
            start = o_first + np.floor(u_start[r] * (o_last - o_first + 1)).astype(np.int64)
            b_end = _chunk_end(csum, start, tgt[r] - a_len[r], o_last)
            b_start[r] = csum[start]
            b_len[r] = csum[b_end + 1] - csum[start]
            nxt[r] = first[r] + a_end[r]  # put the unused sentences back
        label = random_next & ~same  # NVIDIA: a "random" B from the same document is labelled IsNext

        out.append((a_start, a_len, b_start, b_len, label, single, same, short[active], lane_pass[active]))
        pointer[active] = nxt
        active = active[nxt <= last]
        round_no += 1

    cols = [np.concatenate(c) for c in zip(*out)]
    a_start, a_len, b_start, b_len, inst_pass = cols[0], cols[1], cols[2], cols[3], cols[8]
    for q, rng in enumerate(rngs):  # truncation draws per pass, in instance order
        sel = np.flatnonzero(inst_pass == q)
        a_len[sel], b_len[sel], a_start[sel], b_start[sel] = _truncate(a_len[sel], b_len[sel], a_start[sel],
                                                                       b_start[sel], max_num_tokens, rng)
    return Pairs(a_start, a_len.astype(np.int32), b_start, b_len.astype(np.int32), cols[4], cols[5], cols[6],
                 cols[7], short_docs=int(short.sum()), doc_passes=g * n_docs)


def _pass_draws(rngs, n_docs: int, n_sent_total: int, short_seq_prob: float, max_num_tokens: int):
    """Per pass, in rng order: short-target flags, target lengths, and the uniforms of every chunk
    slot (a/b split, coin, random start, random document) -> concatenated over passes."""
    shorts, targets, uniforms = [], [], []
    for rng in rngs:
        short = rng.random(n_docs) < short_seq_prob
        target = np.full(n_docs, max_num_tokens, np.int64)
        target[short] = rng.integers(2, max_num_tokens, size=int(short.sum()), endpoint=True)
        shorts.append(short)
        targets.append(target)
        uniforms.append(rng.random((4, n_sent_total)))
    return np.concatenate(shorts), np.concatenate(targets), np.concatenate(uniforms, axis=1)  # u: [4, g * n]


def _other_documents(u_doc, doc, passes, rngs, n_docs: int) -> np.ndarray:
    """The random document of each random-next lane; where the first draw hits the lane's own
    document, the reference tries up to 10 times for another (draws from that pass's rng)."""
    other = np.minimum(np.floor(u_doc * n_docs).astype(np.int64), n_docs - 1)
    again = np.flatnonzero(other == doc)
    if again.size:
        for q in np.unique(passes[again]):
            which = again[passes[again] == q]
            tries = rngs[q].integers(0, n_docs, size=(which.size, RANDOM_DOC_TRIES - 1))
            differs = tries != doc[which, None]
            pick = np.where(differs.any(axis=1), differs.argmax(axis=1), RANDOM_DOC_TRIES - 2)
            other[which] = tries[np.arange(which.size), pick]
    return other


def _truncate(a_len, b_len, a_start, b_start, max_num_tokens, rng):
    """Closed form of the reference's token-by-token `truncate_seq_pair` (see module docstring)."""
    total = a_len + b_len
    over = total > max_num_tokens
    excess = total - max_num_tokens
    new_a, new_b = a_len.copy(), b_len.copy()
    only_a = over & (a_len > b_len) & (excess <= a_len - b_len)
    only_b = over & (b_len >= a_len) & (excess <= b_len - a_len)
    both = over & ~only_a & ~only_b
    new_a[only_a] -= excess[only_a]
    new_b[only_b] -= excess[only_b]
    new_a[both] = (max_num_tokens + 1) // 2  # from a tie B loses first, so A keeps the odd token
    new_b[both] = max_num_tokens // 2
    cut_a, cut_b = a_len - new_a, b_len - new_b
    a_start = a_start + rng.binomial(cut_a, 0.5)
    b_start = b_start + rng.binomial(cut_b, 0.5)
    return new_a, new_b, a_start, b_start


def assemble(tokens: np.ndarray, pairs: Pairs, max_seq_length: int, cls_id: int, sep_id: int):
    """`[CLS] A [SEP] B [SEP]` padded to max_seq_length: (input_ids, input_mask, segment_ids, lengths)."""
    idx_type = np.int32 if len(tokens) < 2 ** 31 - max_seq_length else np.int64
    la = pairs.a_len.astype(idx_type)[:, None]
    lb = pairs.b_len.astype(idx_type)[:, None]
    length = la + lb + 3
    pos = np.arange(max_seq_length, dtype=idx_type)[None, :]
    in_a = (pos >= 1) & (pos <= la)
    in_b = (pos >= la + 2) & (pos < length - 1)
    src = np.where(in_a, pairs.a_start.astype(idx_type)[:, None] + (pos - 1),
                   pairs.b_start.astype(idx_type)[:, None] + (pos - la - 2))
    ids = np.zeros(src.shape, np.int32)
    inside = in_a | in_b
    ids[inside] = tokens[src[inside]]
    ids[:, 0] = cls_id
    rows = np.arange(len(ids))
    ids[rows, la[:, 0] + 1] = sep_id
    ids[rows, length[:, 0] - 1] = sep_id
    input_mask = (pos < length).astype(np.int32)
    segment_ids = ((pos >= la + 2) & (pos < length)).astype(np.int32)
    return ids, input_mask, segment_ids, length[:, 0].astype(np.int64)
