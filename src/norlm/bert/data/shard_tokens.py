"""One corpus shard as flat WordPiece ids: the only per-shard data the pretraining-data stage holds.

Input format (bert-recipe §1.2): UTF-8 text, one sentence per line, a blank line between
documents.  Lines are stripped; a sentence whose tokenisation is empty is dropped; documents
without sentences are dropped.  Text is tokenised in batches by the Rust tokenizer, so memory
stays at the token ids (int32) plus one batch of text.
"""
from __future__ import annotations

import gzip
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from norlm.errors import warn

LINES_PER_BATCH = 2000
MAX_REPORTED_BAD_LINES = 5


@dataclass
class ShardTokens:
    """Sentences of a shard as slices of one id array.

    `tokens[sent_off[s]:sent_off[s + 1]]` are the ids of sentence `s`; document `d` holds the
    sentences `doc_sent[d] .. doc_sent[d + 1] - 1`.  Sentences of a document are contiguous.
    """

    tokens: np.ndarray  # int32 [T]
    sent_off: np.ndarray  # int64 [S + 1]
    doc_sent: np.ndarray  # int64 [D + 1]
    stats: dict = field(default_factory=dict)

    @property
    def num_docs(self) -> int:
        return len(self.doc_sent) - 1

    @property
    def num_sentences(self) -> int:
        return len(self.sent_off) - 1


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


# Characters BERT's cleaning normalizer leaves unchanged: printable ASCII and space, Latin-1 and
# Latin Extended-A letters and signs (not the soft hyphen), general punctuation (no spaces or format
# characters) and the euro sign.  Lines made only of these skip the normalizer (same ids, faster).
_NOT_CLEAN = re.compile("[^ -~\u00a1-\u00ac\u00ae-\u017f\u2010-\u2027\u2030-\u205e\u20ac]")
_BERT_CLEANING = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                  "strip_accents": False, "lowercase": False}


class _Encoder:
    """Batch encoding without special tokens; clean lines bypass an identity normalizer."""

    def __init__(self, tokenizer):
        self.full = tokenizer
        self.fast = None
        if json.loads(tokenizer.to_str()).get("normalizer") == _BERT_CLEANING:
            self.fast = type(tokenizer).from_str(tokenizer.to_str())
            self.fast.normalizer = None

    @staticmethod
    def _ids(tokenizer, lines: list[str]) -> list[list[int]]:
        encode = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)
        return [enc.ids for enc in encode(lines, add_special_tokens=False)]

    def __call__(self, lines: list[str]) -> list[list[int]]:
        if self.fast is None:
            return self._ids(self.full, lines)
        if not _NOT_CLEAN.search("".join(lines)):
            return self._ids(self.fast, lines)
        dirty = [i for i, line in enumerate(lines) if _NOT_CLEAN.search(line)]
        dirty_set = set(dirty)
        ids = self._ids(self.fast, [line for i, line in enumerate(lines) if i not in dirty_set])
        out: list[list[int]] = []
        it = iter(ids)
        dirty_ids = iter(self._ids(self.full, [lines[i] for i in dirty]))
        for i in range(len(lines)):
            out.append(next(dirty_ids) if i in dirty_set else next(it))
        return out


_ENCODERS: dict[int, _Encoder] = {}


def encoder_for(tokenizer) -> _Encoder:
    if id(tokenizer) not in _ENCODERS:
        _ENCODERS[id(tokenizer)] = _Encoder(tokenizer)
    return _ENCODERS[id(tokenizer)]


def _decode_block(raw_lines: list[bytes], first_lineno: int, path: Path, bad: list[int]) -> list[str]:
    """Decode a block of lines; an undecodable line is reported (file:line), counted and skipped."""
    try:
        text = b"".join(raw_lines).decode("utf-8")
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        return lines
    except UnicodeDecodeError:
        pass
    lines = []
    for offset, raw in enumerate(raw_lines):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad.append(first_lineno + offset)
            if len(bad) <= MAX_REPORTED_BAD_LINES:
                warn(f"{path}:{first_lineno + offset}: skipped, not UTF-8 ({exc.reason} at byte {exc.start})")
            lines.append(None)  # keeps the document structure: the line is neither text nor a boundary
    return lines


def read_shard(path: str | Path, tokenizer, lines_per_batch: int = LINES_PER_BATCH) -> ShardTokens:
    """Read and tokenise one shard; undecodable lines are skipped, counted and reported."""
    path = Path(path)
    encode = encoder_for(tokenizer)
    id_chunks: list[np.ndarray] = []
    len_chunks: list[np.ndarray] = []
    doc_chunks: list[np.ndarray] = []
    bad: list[int] = []
    doc = 0
    lines = 0
    with _open_binary(path) as fh:
        while True:
            raw_lines = fh.readlines(lines_per_batch * 100)
            if not raw_lines:
                break
            block = _decode_block(raw_lines, lines + 1, path, bad)
            lines += len(raw_lines)
            texts = [t.strip() if t is not None else None for t in block]
            boundary = np.fromiter((t == "" for t in texts), bool, count=len(texts))
            doc_of_line = doc + np.cumsum(boundary)
            doc = int(doc_of_line[-1])
            keep = [i for i, t in enumerate(texts) if t]
            if not keep:
                continue
            ids = encode([texts[i] for i in keep])
            lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
            id_chunks.append(np.array(list(itertools.chain.from_iterable(ids)), dtype=np.int32))
            len_chunks.append(lengths)
            doc_chunks.append(doc_of_line[keep])
    if len(bad) > MAX_REPORTED_BAD_LINES:
        warn(f"{path}: {len(bad)} lines skipped as not UTF-8 (first {MAX_REPORTED_BAD_LINES} shown)")
    bad = len(bad)

    tokens = np.concatenate(id_chunks) if id_chunks else np.zeros(0, np.int32)
    lengths = np.concatenate(len_chunks) if len_chunks else np.zeros(0, np.int64)
    docs = np.concatenate(doc_chunks) if doc_chunks else np.zeros(0, np.int64)
    keep = lengths > 0  # a sentence that tokenises to nothing is dropped (as the reference does)
    lengths, docs = lengths[keep], docs[keep]
    sent_off = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=sent_off[1:])
    # documents = runs of equal doc numbers among the kept sentences (empty documents vanish)
    starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]]) if len(docs) else np.zeros(0, np.int64)
    doc_sent = np.r_[starts, len(docs)].astype(np.int64)
    stats = {"lines": lines, "bad_lines": bad, "sentences": int(len(lengths)),
             "empty_sentences": int((~keep).sum()), "documents": int(len(doc_sent) - 1),
             "tokens": int(len(tokens))}
    return ShardTokens(tokens=tokens, sent_off=sent_off, doc_sent=doc_sent, stats=stats)
