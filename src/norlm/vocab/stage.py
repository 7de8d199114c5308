"""Train the cased WordPiece vocabulary from the corpus shards and write its quality report.

Reads WORK/corpus/*.txt.gz (one sentence per line, blank line between documents) in two streaming
passes: the first counts characters (the alphabet, by vocab.character_coverage and
vocab.limit_alphabet), the second trains with HF tokenizers by vocab.method:
  spbpe      NorBERT's SentencePiece-BPE, converted to WordPiece (▁x -> x, x -> ##x)
  wordpiece  HF's WordPieceTrainer
Text is cleaned and pre-split the way BERT's basic tokenizer does it, so every entry is reachable.

Writes WORK/vocab/: tokenizer.json (BERT's cased tokenizer for the new vocab), report.json (checks,
fertility and [UNK] rate on UD 2.7 test text, next to the published NorBERT vocabulary, and the
paper's example sentence), run-vocab.json, and vocab.txt last ([PAD]=0, [unused0..N-1]=1..N,
[UNK] [CLS] [SEP] [MASK]=N+1..N+4, then learned entries; vocab.size lines in total).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from norlm.errors import StageError, StageFailure, warn
from norlm.layout import layout_of, repo_path



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", choices=("spbpe", "wordpiece"), default=None,
                        help="training method (default: vocab.method from the config)")
    parser.add_argument("--corpus", metavar="DIR", default=None,
                        help="folder with the corpus shards (default: WORK/corpus)")
    parser.add_argument("--out", metavar="DIR", default=None, help="output folder (default: WORK/vocab)")
    parser.add_argument("--no-reference", action="store_true",
                        help="leave the published NorBERT vocabulary out of the report")


def _count_pass(lines, chars, stats, shards, sample, vc, corpus_dir):
    """Pass 1: characters (unless `chars` holds them), lines, documents (and bad lines, reported with
    file and line) -> alphabet."""
    from tqdm import tqdm

    from norlm.vocab.corpus_reader import choose_alphabet

    if chars is None:
        chars = Counter()
        for line in tqdm(lines, desc="vocab: counting characters", unit=" lines", mininterval=2, disable=None):
            chars.update(line)
    if stats.lines == 0:
        raise StageFailure(f"no text in the {len(shards)} corpus shard(s) under {corpus_dir} "
                           f"({stats.skipped} unreadable line(s) skipped): nothing to train on")
    alphabet = choose_alphabet(chars, vc.character_coverage, vc.limit_alphabet, vc.always_include)
    what = "" if sample.lines == sample.population else f" (a uniform sample of {sample.population:,} lines)"
    print(f"norlm vocab: {stats.lines:,} lines{what}, {stats.documents:,} documents, "
          f"{stats.characters:,} characters in {len(shards)} shard(s); alphabet {len(alphabet)} characters",
          file=sys.stderr)
    return alphabet, stats


def _training_text(shards, sample, workers: int):
    """(lines of pass 1, their character counts or None, their ReadStats, lines of pass 2): a
    bounded sample is read and counted once, in parallel, and kept in memory; the whole corpus is
    streamed on each pass."""
    from norlm.vocab.corpus_reader import ReadStats, iter_lines, read_sample

    if sample.bounded:
        lines, stats, chars = read_sample(shards, sample, workers)
        return lines, chars, stats, lines
    stats = ReadStats()
    return iter_lines(shards, stats, sample=sample), None, stats, iter_lines(shards, ReadStats(), sample=sample)


def _report(cfg, method, tokens, alphabet, corpus_dir, shards, sample, count_stats, dropped, seconds,
            staging, no_reference) -> dict:
    """report.json's content: settings, what the vocabulary was trained on, checks and fertility."""
    from norlm.vocab.fertility import read_treebanks
    from norlm.vocab.report import describe_vocab

    vc = cfg.vocab
    data_dir = repo_path(cfg.run.data_dir)
    treebank_paths = sorted(data_dir.glob(vc.eval_glob)) if vc.eval_glob else []
    treebanks = read_treebanks(treebank_paths)
    vocabularies = {"ours": describe_vocab(staging, treebanks)}
    reference = data_dir / vc.reference_vocab if vc.reference_vocab else None
    if reference and not no_reference:
        if reference.is_file():
            vocabularies["NorBERT (published)"] = describe_vocab(reference, treebanks)
        else:
            warn(f"reference vocabulary {reference} not found; left out of the report")
    ours = vocabularies["ours"]["checks"]
    if ours["problems"]:
        raise StageFailure(f"the new vocabulary failed its own checks: {'; '.join(ours['problems'])}")
    return {
        "method": method, "size_requested": vc.size, "size": len(tokens), "unused": vc.unused,
        "min_frequency": vc.min_frequency, "alphabet_size": len(alphabet),
        "character_coverage": vc.character_coverage, "limit_alphabet": vc.limit_alphabet,
        "corpus": {"dir": str(corpus_dir), "shards": [p.name for p in shards], "lines": count_stats.lines,
                   "documents": count_stats.documents, "characters": count_stats.characters,
                   "skipped_lines": count_stats.skipped, "skipped_examples": count_stats.skipped_examples,
                   "trained_on": sample.describe(shards), "max_lines": vc.max_lines},
        "dropped_while_converting": dropped,
        "seconds": seconds,
        "eval_text": [str(p) for p in treebank_paths],
        "vocabularies": vocabularies,
    }


def main(args: argparse.Namespace, cfg) -> int:
    vc = cfg.vocab
    method = args.method or vc.method
    os.environ.setdefault("RAYON_NUM_THREADS", str(max(1, cfg.run.workers)))
    from norlm.files import atomic_path, write_json, write_run_record
    from norlm.vocab.corpus_reader import find_shards, plan_sample
    from norlm.vocab.report import format_report
    from norlm.vocab.tokenizer import build_tokenizer
    from norlm.vocab.train import assemble, learn_entries, special_block
    from norlm.vocab.vocab_file import write_vocab

    lay = layout_of(cfg)
    corpus_dir = Path(args.corpus) if args.corpus else lay.corpus_dir
    out = Path(args.out) if args.out else lay.vocab_dir
    shards = find_shards(corpus_dir)
    n_learned = vc.size - len(special_block(vc.unused))
    if n_learned <= 0:
        raise StageError(f"{cfg.source}: vocab.size={vc.size} leaves no room after {vc.unused} [unused] and 5 specials")
    started = time.time()
    sample = plan_sample(shards, vc.max_lines, cfg.run.seed, cfg.run.workers)
    first, chars, stats, second = _training_text(shards, sample, cfg.run.workers)
    alphabet, count_stats = _count_pass(first, chars, stats, shards, sample, vc, corpus_dir)
    try:
        assemble([], alphabet, vc.size, vc.unused)  # fails now, not after training, if the size is too small
    except ValueError as exc:
        raise StageError(f"{cfg.source}: {exc}") from None

    counted = time.time()  # pass 2: training
    entries, dropped = learn_entries(method, second, alphabet, n_learned,
                                     vc.min_frequency, length=count_stats.lines)
    tokens = assemble(entries, alphabet, vc.size, vc.unused)
    trained = time.time()
    if len(tokens) < vc.size:
        warn(f"the corpus supports only {len(tokens):,} entries at "
             f"min_frequency={vc.min_frequency}; vocab.size={vc.size:,} not reached")

    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").unlink(missing_ok=True)  # a failed rerun must not leave an old "finished" marker
    staging = out / ".vocab.txt.partial"  # vocab.txt itself appears only when everything else is written
    try:
        write_vocab(staging, tokens)
        tokenizer = build_tokenizer(staging)
        with atomic_path(out / "tokenizer.json") as tmp:
            tokenizer.save(str(tmp), pretty=True)
        seconds = {"counting": round(counted - started, 2), "training": round(trained - counted, 2)}
        report = _report(cfg, method, tokens, alphabet, corpus_dir, shards, sample, count_stats, dropped, seconds,
                         staging, args.no_reference)
        write_json(out / "report.json", report)
        print(format_report(report))
        write_run_record(out, cfg, "vocab", method=method, seconds=report["seconds"])
        os.replace(staging, out / "vocab.txt")  # last: the file Make waits for
    finally:
        staging.unlink(missing_ok=True)
    print(f"norlm vocab: wrote {out / 'vocab.txt'} ({len(tokens):,} entries, {method}) in "
          f"{time.time() - started:.1f} s", file=sys.stderr)
    return 0
