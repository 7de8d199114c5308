"""One corpus shard as flat WordPiece ids: the only per-shard data the pretraining-data stage holds.

Input format (bert-recipe §1.2): UTF-8 text, one sentence per line, a blank line between
documents.  Lines are stripped; a sentence whose tokenisation is empty is dropped; documents
without sentences are dropped.  Text is tokenised in batches by the Rust tokenizer, so memory
stays at the token ids (int32) plus one batch of text.
"""
from __future__ import annotations

import gzip
import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LINES_PER_BATCH = 20000
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


def _encode(tokenizer, lines: list[str]) -> list[list[int]]:
    encode = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)
    return [enc.ids for enc in encode(lines, add_special_tokens=False)]


def read_shard(path: str | Path, tokenizer, lines_per_batch: int = LINES_PER_BATCH) -> ShardTokens:
    """Read and tokenise one shard; undecodable lines are skipped, counted and reported."""
    path = Path(path)
    id_chunks: list[np.ndarray] = []
    len_chunks: list[np.ndarray] = []
    doc_chunks: list[np.ndarray] = []
    pending: list[str] = []
    pending_doc: list[int] = []
    doc = 0
    lines = bad = 0

    def flush() -> None:
        if not pending:
            return
        ids = _encode(tokenizer, pending)
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        id_chunks.append(np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(lengths.sum())))
        len_chunks.append(lengths)
        doc_chunks.append(np.asarray(pending_doc, dtype=np.int64))
        pending.clear()
        pending_doc.clear()

    with _open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            lines += 1
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                bad += 1
                if bad <= MAX_REPORTED_BAD_LINES:
                    print(f"{path}:{lineno}: skipped, not UTF-8 ({exc.reason} at byte {exc.start})", file=sys.stderr)
                continue
            if not text:
                doc += 1
                continue
            pending.append(text)
            pending_doc.append(doc)
            if len(pending) >= lines_per_batch:
                flush()
    flush()
    if bad > MAX_REPORTED_BAD_LINES:
        print(f"{path}: {bad} lines skipped as not UTF-8 (first {MAX_REPORTED_BAD_LINES} shown)", file=sys.stderr)

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
