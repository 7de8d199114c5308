"""Train the bidirectional ELMo language model (elmo-train stage), resuming exactly if interrupted.

bilm-tf's recipe (elmo-format spec sections 2-4): sampled softmax with the log-uniform sampler,
loss 0.5·(fw+bw) scaled by unroll_steps for the gradient, global-norm clip, Adagrad with
accumulator 1.0, per-row continuous streams in windows of unroll_steps with the LSTM state carried
from batch to batch.  Reads WORK/elmo/vocab.txt + counts.json and WORK/corpus shards; writes
WORK/elmo/train/ (ckpt/, dllog.json, options.json, run record, final.json last).

Data-parallel through norlm.engines (Horovod or tf-distribute), as bilm-tf split one global batch
over its GPUs: every rank walks the streams of the whole global batch (batch_size x workers rows)
and builds its own slice of rows; all ranks share the step's negatives; gradients and the loss are
averaged.  So N workers x batch B train exactly as 1 worker x batch N·B (dropout aside: its masks
are drawn per rank).  The sparse gradients of char_embed and softmax/W are turned into dense
tensors before the allreduce (exact - duplicate rows are summed - and cheap at these vocabulary
sizes; bilm-tf concatenated IndexedSlices instead).

The stage's parts, one file each: train_plan (inputs checked, steps planned), trainer (the compiled
step), train_resume (where the run starts), train_loop (the updates, checkpoints, final.json),
train_progress (DLLogger log, bar, throughput), checkpoint (the files of an exact resume).
"""
from __future__ import annotations

import argparse

from norlm import engines
from norlm.files import write_json, write_run_record


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default=None, help="folder of corpus shards (default WORK/corpus)")
    parser.add_argument("--vocab-dir", default=None, help="folder with vocab.txt and counts.json (default WORK/elmo)")
    parser.add_argument("--out", default=None, help="output folder (default WORK/elmo/train)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--verify-data", choices=("size", "sha256"), default="size",
                        help="start-up check of the corpus shards against corpus/stats.json: sizes (default) or "
                             "sizes and sha256 (reads every byte)")
    parser.add_argument("--force", action="store_true",
                        help="train even when the disk pre-flight finds too little space for the checkpoints")


def set_cpu_threads(ec) -> None:
    """Apply [elmo] intra_op_threads / inter_op_threads; must run before TensorFlow starts its runtime."""
    import tensorflow as tf

    from norlm.errors import warn

    threading = tf.config.threading
    for name, value, setter in (("intra_op_threads", ec.intra_op_threads, threading.set_intra_op_parallelism_threads),
                                ("inter_op_threads", ec.inter_op_threads, threading.set_inter_op_parallelism_threads)):
        if value:
            try:
                setter(value)
            except RuntimeError:  # this process has run TensorFlow already (elmo-train called in-process)
                warn(f"elmo.{name} = {value} not applied: TensorFlow's runtime was already started in this process")


def start_runtime(cfg) -> None:
    """The engine, the device and deterministic TensorFlow ops, CPU threads first."""
    set_cpu_threads(cfg.elmo)  # before the engine: tf-distribute starts the runtime
    engines.init(cfg.run.engine)
    engines.fail_fast_on_dead_peer()
    import tensorflow as tf

    engines.pin_gpu()
    tf.config.experimental.enable_op_determinism()
    tf.random.set_seed(cfg.run.seed)  # required by op determinism; our own randomness is stateless


def main(args: argparse.Namespace, cfg) -> int:
    start_runtime(cfg)
    from norlm.elmo.chars import CharCache
    from norlm.elmo.data import BidirectionalBatches
    from norlm.elmo.train_loop import heldout_start, train_loop
    from norlm.elmo.train_plan import make_plan
    from norlm.elmo.train_progress import Progress
    from norlm.elmo.train_resume import choose_start
    from norlm.elmo.trainer import Trainer
    from norlm.diskspace import checkpoint_preflight

    ec = cfg.elmo
    plan = make_plan(args, cfg)
    # the global batch's streams (seed as rank 0's once was), of which this rank builds its rows
    mine = range(plan.rank * ec.batch_size, (plan.rank + 1) * ec.batch_size)
    batches = BidirectionalBatches(plan.shards, plan.vocab, ec.batch_size * plan.world, ec.unroll_steps,
                                   seed=plan.seed * 1000, rows=mine, max_chars=ec.max_characters_per_token,
                                   shuffle=ec.shuffle_on_load, holdout=plan.holdout)
    trainer = Trainer(plan.options, len(plan.vocab), ec, plan.seed)
    plan.ckpt_dir.mkdir(parents=True, exist_ok=True)
    start_step = choose_start(trainer, batches, plan)
    if start_step is None:
        return 0
    checkpoint_preflight(plan.ckpt_dir, 2 * sum(int(v.shape.num_elements()) * v.dtype.size for v in trainer.train_vars),
                         ec.keep_checkpoints, args.force, "ckpt")  # weights and their Adagrad accumulators
    if engines.is_root():
        write_json(plan.out / "options.json", plan.options)
        write_run_record(plan.out, cfg, "elmo-train", world_size=plan.world, n_train_tokens=plan.n_train_tokens,
                         batches_per_epoch=plan.per_epoch, total_steps=plan.total_steps, resumed_from=start_step)
    chars = CharCache(ec.max_characters_per_token)
    heldout_start(trainer, plan, chars, ec, start_step)
    progress = Progress(plan.out, plan, start_step, ec.log_every, show_bar=not args.no_progress)
    return train_loop(trainer, batches, plan, ec, start_step, progress, chars)
