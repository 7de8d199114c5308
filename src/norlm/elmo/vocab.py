"""Count the words of the corpus shards and write the ELMo vocabulary (elmo-vocab stage).

Reads WORK/corpus/*.txt.gz (one sentence per line, blank line between documents), tokenises
with `norlm.elmo.text.tokenize`, and writes WORK/elmo/counts.json (word, sentence and document
counts; `n_train_tokens` for the epoch definition) and, last, WORK/elmo/vocab.txt.
Under mpirun each rank counts its share of the shards.
"""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from norlm import engines
from norlm.errors import StageError, warn
from norlm.elmo.text import ReadStats, corpus_shards, read_sentences
from norlm.elmo.vocabulary import SPECIALS, top_words
from norlm.files import atomic_open, write_json, write_run_record
from norlm.layout import layout_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default=None, help="folder of corpus shards (default WORK/corpus)")
    parser.add_argument("--out", default=None, help="output folder (default WORK/elmo)")


def count_shards(shards: list[Path], progress: bool = True) -> tuple[Counter, ReadStats]:
    counts: Counter = Counter()
    stats = ReadStats()
    for shard in tqdm(shards, desc="elmo-vocab: counting", unit="shard", disable=not progress):
        for words in read_sentences(shard, stats):
            counts.update(words)
    return counts, stats


def main(args: argparse.Namespace, cfg) -> int:
    engines.init_light()
    lay = layout_of(cfg)
    corpus = Path(args.corpus) if args.corpus else lay.corpus_dir
    out = Path(args.out) if args.out else lay.elmo_dir
    shards = corpus_shards(corpus)
    if not shards:
        raise StageError(f"no corpus shards (*.txt.gz, *.txt) in {corpus}")
    # per-shard results merged in shard order, so the skipped-line examples match one process's exactly
    mine = tqdm(engines.split_indexed(shards), desc="elmo-vocab: counting", unit="shard", disable=not engines.is_root())
    parts = engines.allgather_ordered([(i, count_shards([shard], progress=False)) for i, shard in mine])
    if not engines.is_root():
        return 0
    counts = Counter()
    total = ReadStats()
    for c, s in parts:
        counts.update(c)
        for key in ("lines", "sentences", "documents", "skipped"):
            setattr(total, key, getattr(total, key) + getattr(s, key))
        total.examples.extend(s.examples)
    for example in total.examples[:5]:
        warn(f"skipped {example}")
    n_words = sum(counts.values())
    if n_words == 0:
        raise StageError(f"no usable words in {len(shards)} shard(s) of {corpus}")
    words = top_words(counts, cfg.elmo.vocab_size, cfg.elmo.min_count)
    covered = sum(counts[w] for w in words)
    summary = {
        "corpus": str(corpus), "shards": [s.name for s in shards],
        "n_train_tokens": n_words, "sentences": total.sentences, "documents": total.documents,
        "lines": total.lines, "skipped_lines": total.skipped, "skipped_examples": total.examples[:5],
        "types": len(counts), "vocab_size": len(words) + len(SPECIALS), "target_words": len(words),
        "coverage": covered / n_words, "tokenizer": "norlm.elmo.text.tokenize",
    }
    write_json(out / "counts.json", summary)
    write_run_record(out, cfg, "elmo-vocab", counts=summary)
    with atomic_open(out / "vocab.txt") as fh:
        fh.write("".join(w + "\n" for w in (*SPECIALS, *words)))
    print(f"elmo-vocab: {n_words:,} words in {total.sentences:,} sentences; {len(words):,} target words "
          f"cover {100 * covered / n_words:.1f}%; skipped {total.skipped} line(s) -> {out / 'vocab.txt'}")
    return 0
