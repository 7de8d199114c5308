"""Count the words of the corpus shards and write the ELMo vocabulary (elmo-vocab stage).

Reads WORK/corpus/*.txt.gz (one sentence per line, blank line between documents), tokenises
with `norlm.elmo.text.tokenize`, and writes WORK/elmo/counts.json (word, sentence and document
counts; `n_train_tokens` for the epoch definition) and, last, WORK/elmo/vocab.txt.

Bounded memory (spill and merge): each shard's counts are split by a hash of the word into P files
under WORK/elmo/counts/ (a worker holds one shard's types); each partition is then merged on its
own and saves its top vocab_size
words.  P = max(32, number of shards), so a partition holds at most the corpus's types / shards,
no more than an average shard's types however large the corpus (types grow as N^0.8, Heaps' law).
The partitions hold disjoint words, so the union of their top lists contains the corpus's
top list: rank 0 takes the vocab_size-th largest of their counts as a threshold, and only words
counted at least that often travel to it.  vocab.txt is the one a single Counter over the corpus
gives.
Shards are split over MPI ranks and --workers processes; a shard already counted by an earlier
(killed) run with the same file is reused.
"""
from __future__ import annotations

import argparse
import pickle
import zlib
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from norlm import engines
from norlm.errors import StageError, warn
from norlm.elmo.text import ReadStats, corpus_shards, read_sentences
from norlm.elmo.vocabulary import SPECIALS, top_words
from norlm.files import atomic_open, read_json, write_json, write_run_record
from norlm.layout import layout_of
from norlm.worker_pool import pool_map

PARTITIONS = 32  # at least; one per shard on larger corpora
COUNT_FORMAT = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default=None, help="folder of corpus shards (default WORK/corpus)")
    parser.add_argument("--out", default=None, help="output folder (default WORK/elmo)")
    parser.add_argument("--workers", type=int, default=None, help="processes per rank (default: run.workers)")


def count_shards(shards: list[Path], progress: bool = True) -> tuple[Counter, ReadStats]:
    """All word counts of some shards in one Counter (small inputs and tests; the stage spills)."""
    counts: Counter = Counter()
    stats = ReadStats()
    for shard in tqdm(shards, desc="elmo-vocab: counting", unit="shard", disable=not progress):
        for words in read_sentences(shard, stats):
            counts.update(words)
    return counts, stats


def partition_of(word: str, partitions: int = PARTITIONS) -> int:
    """The partition of a word: the same in every process (crc32, not Python's salted hash)."""
    return zlib.crc32(word.encode("utf-8")) % partitions


def partitions_for(n_shards: int) -> int:
    return max(PARTITIONS, n_shards)


def _shard_key(shard: Path, partitions: int) -> dict:
    st = shard.stat()
    return {"format": COUNT_FORMAT, "file": str(shard), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "partitions": partitions}


def count_shard(job: tuple[str, str, int]) -> dict:
    """Worker entry point: one shard's counts, spilled by partition; its stats (reused when done)."""
    shard, spill, n_parts = Path(job[0]), Path(job[1]), job[2]
    done = spill / "done.json"
    key = _shard_key(shard, n_parts)
    if done.is_file():
        old = read_json(done)
        if old.get("key") == key:
            return old
    counts, stats = count_shards([shard], progress=False)
    parts: list[dict] = [{} for _ in range(n_parts)]
    for word, n in counts.items():
        parts[partition_of(word, n_parts)][word] = n
    spill.mkdir(parents=True, exist_ok=True)
    for p, part in enumerate(parts):
        with atomic_open(spill / f"{p:03d}.pkl", "wb") as fh:
            pickle.dump(part, fh, protocol=pickle.HIGHEST_PROTOCOL)
    record = {"key": key, "lines": stats.lines, "sentences": stats.sentences, "documents": stats.documents,
              "skipped": stats.skipped, "examples": stats.examples}
    write_json(done, record)
    return record


def merge_partition(job: tuple[int, list[str], int, int, str]) -> tuple[list[int], int, int]:
    """Worker entry point: one partition summed over all shards; saves its top words and returns
    (their counts, the partition's tokens, its types)."""
    p, spills, size, min_count, top_dir = job
    counts: Counter = Counter()
    for spill in spills:
        with open(Path(spill) / f"{p:03d}.pkl", "rb") as fh:
            counts.update(pickle.load(fh))
    top = [(w, counts[w]) for w in top_words(counts, size, min_count)]
    with atomic_open(Path(top_dir) / f"top-{p:03d}.pkl", "wb") as fh:
        pickle.dump(top, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return [c for _, c in top], sum(counts.values()), len(counts)


def candidates(job: tuple[int, str, int]) -> list[tuple[str, int]]:
    """Worker entry point: the words of one partition's top list counted at least `threshold` times."""
    p, top_dir, threshold = job
    with open(Path(top_dir) / f"top-{p:03d}.pkl", "rb") as fh:
        return [(w, c) for w, c in pickle.load(fh) if c >= threshold]


def _threshold(merged: list, size: int) -> int:
    """The size-th largest count over all partitions' top lists (every count when there are fewer)."""
    counts = sorted((c for m in merged for c in m[0]), reverse=True)
    return counts[size - 1] if size and len(counts) >= size else 0


def _spill_dir(out: Path, shard: Path) -> Path:
    return out / "counts" / shard.name.removesuffix(".gz").removesuffix(".txt")


def main(args: argparse.Namespace, cfg) -> int:
    engines.init_light()
    lay = layout_of(cfg)
    corpus = Path(args.corpus) if args.corpus else lay.corpus_dir
    out = Path(args.out) if args.out else lay.elmo_dir
    workers = max(1, getattr(args, "workers", None) or cfg.run.workers)
    shards = corpus_shards(corpus)
    if not shards:
        raise StageError(f"no corpus shards (*.txt.gz, *.txt) in {corpus}")
    spills = [_spill_dir(out, s) for s in shards]
    n_parts = partitions_for(len(shards))
    mine = engines.split_indexed([(str(s), str(d), n_parts) for s, d in zip(shards, spills)])
    done = pool_map(count_shard, [job for _, job in mine], workers, "elmo-vocab: counting")
    records = engines.allgather_ordered([(i, r) for (i, _), r in zip(mine, done)])
    size, min_count = cfg.elmo.vocab_size, cfg.elmo.min_count
    top_dir = out / "counts"
    parts = engines.split_indexed(list(range(n_parts)))
    merged = pool_map(merge_partition, [(p, [str(s) for s in spills], size, min_count, str(top_dir)) for _, p in parts],
                   workers, "elmo-vocab: merging")
    merged = engines.allgather_ordered([(i, m) for (i, _), m in zip(parts, merged)])
    threshold = _threshold(merged, size)
    found = pool_map(candidates, [(p, str(top_dir), threshold) for _, p in parts], workers, "elmo-vocab: top words")
    found = engines.allgather_ordered([(i, f) for (i, _), f in zip(parts, found)])
    if not engines.is_root():
        return 0
    return _write(cfg, out, corpus, shards, records, merged, found)


def _write(cfg, out: Path, corpus: Path, shards: list[Path], records: list[dict], merged: list, found: list) -> int:
    """Rank 0: the global top list from the partitions' top lists; counts.json, then vocab.txt."""
    total = ReadStats()
    for r in records:
        for key in ("lines", "sentences", "documents", "skipped"):
            setattr(total, key, getattr(total, key) + r[key])
        total.examples.extend(r["examples"])
    for example in total.examples[:5]:
        warn(f"skipped {example}")
    n_words = sum(m[1] for m in merged)
    if n_words == 0:
        raise StageError(f"no usable words in {len(shards)} shard(s) of {corpus}")
    top = Counter(dict(wc for f in found for wc in f))
    words = top_words(top, cfg.elmo.vocab_size, cfg.elmo.min_count)
    covered = sum(top[w] for w in words)
    summary = {
        "corpus": str(corpus), "shards": [s.name for s in shards],
        "n_train_tokens": n_words, "sentences": total.sentences, "documents": total.documents,
        "lines": total.lines, "skipped_lines": total.skipped, "skipped_examples": total.examples[:5],
        "types": sum(m[2] for m in merged), "vocab_size": len(words) + len(SPECIALS), "target_words": len(words),
        "coverage": covered / n_words, "tokenizer": "norlm.elmo.text.tokenize",
    }
    write_json(out / "counts.json", summary)
    write_run_record(out, cfg, "elmo-vocab", counts=summary)
    with atomic_open(out / "vocab.txt") as fh:
        fh.write("".join(w + "\n" for w in (*SPECIALS, *words)))
    print(f"elmo-vocab: {n_words:,} words in {total.sentences:,} sentences; {len(words):,} target words "
          f"cover {100 * covered / n_words:.1f}%; skipped {total.skipped} line(s) -> {out / 'vocab.txt'}")
    return 0
