"""What an elmo-train run will do, settled before TensorFlow builds anything: its folders, its checked
inputs (vocabulary, word counts, corpus shards, held-out sentences) and its number of steps.

Bad inputs stop here with one StageError line, before a model is built.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from norlm import engines
from norlm.errors import StageError
from norlm.files import read_json
from norlm.layout import layout_of


@dataclass
class TrainPlan:
    out: Path                    # WORK/elmo/train (or --out)
    vocab: object                # norlm.elmo.vocabulary.WordIds
    shards: list[Path]
    n_train_tokens: int
    per_epoch: int               # batches per epoch
    total_steps: int
    options: dict                # options.json of the model
    holdout: dict[str, int]      # shard -> sentences kept out of training
    heldout: list                # those sentences (for the held-out perplexity)
    seed: int
    rank: int
    world: int
    tokens_per_step: int         # one token = one position per direction, all workers

    @property
    def ckpt_dir(self) -> Path:
        return self.out / "ckpt"


def plan_steps(ec, n_train_tokens: int, world: int) -> tuple[int, int]:
    """(batches per epoch, total batches) as bilm-tf: int(tokens / (batch·unroll·workers)) per epoch."""
    per_epoch = max(1, int(n_train_tokens / (ec.batch_size * ec.unroll_steps * world)))
    total = ec.n_epochs * per_epoch
    if ec.max_steps > 0:
        total = min(total, ec.max_steps)
    return per_epoch, total


def make_plan(args: argparse.Namespace, cfg) -> TrainPlan:
    """Read and check the inputs named by the arguments and [elmo]; StageError on the first bad one."""
    from norlm.corpus.shard_check import check_shards
    from norlm.elmo.data import heldout_sentences
    from norlm.elmo.options import options_from_config
    from norlm.elmo.text import corpus_shards
    from norlm.elmo.vocabulary import WordIds, load_vocab

    ec, lay, world = cfg.elmo, layout_of(cfg), engines.size()
    corpus = Path(args.corpus) if args.corpus else lay.corpus_dir
    vocab_dir = Path(args.vocab_dir) if args.vocab_dir else lay.elmo_dir
    try:
        vocab = WordIds(load_vocab(vocab_dir / "vocab.txt"))
        counts = read_json(vocab_dir / "counts.json")
    except (OSError, ValueError) as exc:
        raise StageError(str(exc)) from exc
    shards = corpus_shards(corpus)
    if not shards:
        raise StageError(f"no corpus shards in {corpus}")
    check_shards(shards, full=getattr(args, "verify_data", "size") == "sha256")  # against corpus/stats.json
    if ec.n_negative_samples >= len(vocab):
        raise StageError(f"n_negative_samples {ec.n_negative_samples} must be below the vocabulary size "
                         f"{len(vocab)} ({vocab_dir / 'vocab.txt'})")
    n_train_tokens = ec.n_train_tokens or int(counts["n_train_tokens"])
    per_epoch, total_steps = plan_steps(ec, n_train_tokens, world)
    holdout, heldout = {}, []
    if ec.heldout_sentences > 0:
        holdout = {str(shards[-1]): ec.heldout_sentences}
        heldout = heldout_sentences(shards[-1], ec.heldout_sentences)
    return TrainPlan(out=Path(args.out) if args.out else lay.elmo_train, vocab=vocab, shards=shards,
                     n_train_tokens=n_train_tokens, per_epoch=per_epoch, total_steps=total_steps,
                     options=options_from_config(ec, len(vocab), n_train_tokens, world), holdout=holdout,
                     heldout=heldout, seed=cfg.run.seed, rank=engines.rank(), world=world,
                     tokens_per_step=2 * ec.batch_size * ec.unroll_steps * world)
