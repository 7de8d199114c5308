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
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from norlm import engines
from norlm.stop_signals import EXIT_INTERRUPTED, StopFlag
from norlm.errors import StageError
from norlm.files import read_json, write_json, write_run_record
from norlm.layout import layout_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default=None, help="folder of corpus shards (default WORK/corpus)")
    parser.add_argument("--vocab-dir", default=None, help="folder with vocab.txt and counts.json (default WORK/elmo)")
    parser.add_argument("--out", default=None, help="output folder (default WORK/elmo/train)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def plan_steps(ec, n_train_tokens: int, world: int) -> tuple[int, int]:
    """(batches per epoch, total batches) as bilm-tf: int(tokens / (batch·unroll·workers)) per epoch."""
    per_epoch = max(1, int(n_train_tokens / (ec.batch_size * ec.unroll_steps * world)))
    total = ec.n_epochs * per_epoch
    if ec.max_steps > 0:
        total = min(total, ec.max_steps)
    return per_epoch, total


class Trainer:
    """Model, optimiser, carried states and the compiled training step."""

    def __init__(self, options: dict, n_vocab: int, ec, seed: int):
        import tensorflow as tf

        from norlm.elmo.adagrad import Adagrad
        from norlm.elmo.model import ElmoModel

        self.tf = tf
        self.ec = ec
        self.seed = seed
        self.n_vocab = n_vocab
        self.model = ElmoModel(options, n_vocab=n_vocab, seed=seed)
        self.names = sorted(self.model.vars)
        self.train_vars = [self.model.vars[n] for n in self.names]
        self.optimizer = Adagrad(self.names, self.train_vars, ec.learning_rate, ec.initial_accumulator)
        self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        b, m = ec.batch_size, self.model
        self.states = {f"{d}/{layer}/{part}": tf.Variable(tf.zeros([b, m.dim if part == "c" else m.state_dim]),
                                                          trainable=False)
                       for d in range(2) for layer in range(m.n_layers) for part in ("c", "m")}
        shared = {**self.model.vars, **self.optimizer.slots, "global_step": self.global_step}
        from norlm.elmo.checkpoint import make_checkpoint

        self.checkpoint = make_checkpoint(shared)
        self.step_fn = tf.function(self._train_step, reduce_retracing=True)
        signature = [tf.TensorSpec([None, None, ec.max_characters_per_token], tf.int32),
                     tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]
        self.eval_fns = [tf.function(lambda c, t, m, d=d: self._eval_xent(c, t, m, d), input_signature=signature)
                         for d in range(2)]

    def _direction_states(self, d: int):
        return [(self.states[f"{d}/{layer}/c"].value(), self.states[f"{d}/{layer}/m"].value())
                for layer in range(self.model.n_layers)]

    def _train_step(self, chars, targets, sampled, tries, seed):
        tf, ec, model = self.tf, self.ec, self.model
        from norlm.elmo.sampler import expected_count
        from norlm.elmo.softmax import sampled_softmax_xent

        b = ec.batch_size
        with tf.GradientTape() as tape:
            # forward rows then backward rows: one CNN call, once per distinct word of the batch
            emb = model.token_embedding(chars, unique=True)
            tops, new_states = [], []
            for d in range(2):
                dseed = tf.random.experimental.stateless_fold_in(seed, d)
                outs, states = model.stack(d, emb[d * b:(d + 1) * b], self._direction_states(d), dropout_seed=dseed)
                top = outs[-1]
                if model.dropout > 0:
                    top = tf.nn.experimental.stateless_dropout(
                        top, model.dropout, seed=tf.random.experimental.stateless_fold_in(dseed, 99))
                tops.append(tf.reshape(top, [-1, model.proj_dim]))
                new_states.append(states)
            # both directions share the negatives: one sampled softmax over all 2·B·T positions
            labels = tf.reshape(tf.cast(targets, tf.int64), [-1])
            n_sampled = sampled.shape[0]
            loss = sampled_softmax_xent(
                model.vars["lm/softmax/W"], model.vars["lm/softmax/b"], labels, tf.concat(tops, 0), sampled,
                expected_count(labels[:, None], n_sampled, tries, self.n_vocab),
                expected_count(sampled, n_sampled, tries, self.n_vocab))
            per_direction = tf.reduce_mean(tf.reshape(loss, [2, -1]), axis=1)
            total = 0.5 * (per_direction[0] + per_direction[1])
            scaled = total * float(ec.unroll_steps)
        grads = tape.gradient(scaled, self.train_vars)
        grads = [tf.convert_to_tensor(g) for g in grads]  # IndexedSlices -> dense (duplicates summed)
        if engines.size() > 1:
            grads = [engines.allreduce(g, "mean", name=f"grad_{i}") for i, g in enumerate(grads)]
            total = engines.allreduce(total, "mean", name="loss")
        grads, norm = tf.clip_by_global_norm(grads, ec.clip_norm)
        self.optimizer.apply(grads, self.train_vars)
        for d in range(2):
            for layer, (c, m) in enumerate(new_states[d]):
                self.states[f"{d}/{layer}/c"].assign(c)
                self.states[f"{d}/{layer}/m"].assign(m)
        self.global_step.assign_add(1)
        return total, norm

    def _eval_xent(self, chars, targets, mask, direction):
        """Summed full-softmax cross-entropy over a zero-state padded batch of one direction."""
        tf, model = self.tf, self.model
        emb = model.token_embedding(chars)
        outs, _ = model.stack(direction, emb, model.zero_states(tf.shape(chars)[0]), mask=tf.ones_like(mask) > 0)
        xent = model.full_softmax_xent(tf.reshape(outs[-1], [-1, model.proj_dim]), tf.reshape(targets, [-1]))
        return tf.reduce_sum(xent * tf.reshape(mask, [-1]))

    def heldout_perplexity(self, sentences, vocab, chars, batch_size: int) -> float:
        """exp(mean full-softmax cross-entropy) over both directions, every sentence from zero state."""
        from norlm.elmo.data import padded_lm_batch

        total, count = 0.0, 0.0
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        for start in range(0, len(order), batch_size):
            batch = [sentences[i] for i in order[start:start + batch_size]]
            for d in range(2):
                c, t, m = padded_lm_batch(batch, vocab, chars, reverse=bool(d))
                total += float(self.eval_fns[d](c, t, m))
                count += float(m.sum())
        return math.exp(total / max(count, 1.0))

    # -------------------------------------------------------------- state <-> numpy
    def carried_states(self) -> dict[str, np.ndarray]:
        return {k.replace("/", "_"): v.numpy() for k, v in self.states.items()}

    def load_carried_states(self, arrays: dict[str, np.ndarray]) -> None:
        for k, v in self.states.items():
            v.assign(arrays[k.replace("/", "_")])


def negatives(seed: int, step: int, num_sampled: int, n_vocab: int) -> tuple[np.ndarray, int]:
    """The step's negatives, the same on every rank whatever the number of workers (the 0 is where
    the rank once was: one-worker runs still draw what they always drew)."""
    from norlm.elmo.sampler import log_uniform_unique

    return log_uniform_unique(np.random.default_rng([seed, 0, step, 7]), num_sampled, n_vocab)


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


def main(args: argparse.Namespace, cfg) -> int:
    set_cpu_threads(cfg.elmo)  # before the engine: tf-distribute starts the runtime
    engines.init(cfg.run.engine)
    engines.fail_fast_on_dead_peer()
    import tensorflow as tf

    engines.pin_gpu()
    tf.config.experimental.enable_op_determinism()
    tf.random.set_seed(cfg.run.seed)  # required by op determinism; our own randomness is stateless
    from norlm.elmo import checkpoint as ck
    from norlm.elmo.chars import CharCache
    from norlm.elmo.data import BidirectionalBatches, heldout_sentences
    from norlm.elmo.options import options_from_config
    from norlm.elmo.text import corpus_shards
    from norlm.elmo.vocabulary import WordIds, load_vocab

    ec, seed = cfg.elmo, cfg.run.seed
    lay = layout_of(cfg)
    corpus = Path(args.corpus) if args.corpus else lay.corpus_dir
    vocab_dir = Path(args.vocab_dir) if args.vocab_dir else lay.elmo_dir
    out = Path(args.out) if args.out else lay.elmo_train
    ckpt_dir = out / "ckpt"
    rank, world = engines.rank(), engines.size()
    try:
        vocab = WordIds(load_vocab(vocab_dir / "vocab.txt"))
        counts = read_json(vocab_dir / "counts.json")
    except (OSError, ValueError) as exc:
        raise StageError(str(exc)) from exc
    shards = corpus_shards(corpus)
    if not shards:
        raise StageError(f"no corpus shards in {corpus}")
    if ec.n_negative_samples >= len(vocab):
        raise StageError(f"n_negative_samples {ec.n_negative_samples} must be below the vocabulary size "
                         f"{len(vocab)} ({vocab_dir / 'vocab.txt'})")
    n_train_tokens = ec.n_train_tokens or int(counts["n_train_tokens"])
    per_epoch, total_steps = plan_steps(ec, n_train_tokens, world)
    options = options_from_config(ec, len(vocab), n_train_tokens, world)

    holdout, heldout = {}, []
    if ec.heldout_sentences > 0:
        holdout = {str(shards[-1]): ec.heldout_sentences}
        heldout = heldout_sentences(shards[-1], ec.heldout_sentences)
    # the global batch's streams (seed as rank 0's once was), of which this rank builds its rows
    mine = range(rank * ec.batch_size, (rank + 1) * ec.batch_size)
    batches = BidirectionalBatches(shards, vocab, ec.batch_size * world, ec.unroll_steps, seed=seed * 1000, rows=mine,
                                   max_chars=ec.max_characters_per_token, shuffle=ec.shuffle_on_load,
                                   holdout=holdout)
    trainer = Trainer(options, len(vocab), ec, seed)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_dir.mkdir(parents=True, exist_ok=True)

    start_step = ck.latest_step(ckpt_dir)
    if start_step is not None and start_step >= total_steps and (out / "final.json").exists():
        engines.log0(f"elmo-train: already complete at step {start_step} ({out / 'final.json'})")
        return 0
    if start_step is not None:
        ck.restore_shared(trainer.checkpoint, ckpt_dir, start_step)
        arrays, data_state = ck.restore_rank(ckpt_dir, start_step, rank)
        trainer.load_carried_states(arrays)
        batches.restore(data_state)
        engines.log0(f"elmo-train: resuming from step {start_step} ({ckpt_dir})")
    else:
        start_step = 0
        engines.broadcast_variables(trainer.train_vars)
    if engines.is_root():
        write_json(out / "options.json", options)
        write_run_record(out, cfg, "elmo-train", world_size=world, n_train_tokens=n_train_tokens,
                         batches_per_epoch=per_epoch, total_steps=total_steps, resumed_from=start_step)
    chars = CharCache(ec.max_characters_per_token)
    ppl_start_path = out / "heldout-start.json"
    if heldout and engines.is_root() and not ppl_start_path.exists():
        write_json(ppl_start_path, {"step": start_step, "perplexity": trainer.heldout_perplexity(
            heldout, vocab, chars, ec.heldout_batch_size)})

    from norlm.dllogger import DLLogger

    log = DLLogger(out / "dllog.json", append=start_step > 0, metadata={
        "train_perplexity": {"format": ":.2f", "GOAL": "MINIMIZE", "STAGE": "TRAIN"},
        "throughput_train": {"unit": "tokens/s", "GOAL": "MAXIMIZE", "STAGE": "TRAIN"},
    }) if engines.is_root() else None
    tokens_per_step = 2 * ec.batch_size * ec.unroll_steps * world  # one token = one position per direction
    interval_loss, interval_n, interval_t = 0.0, 0, time.time()
    steady_tokens, steady_time = 0, 0.0
    step = start_step
    bar = tqdm(total=total_steps, initial=start_step, desc="elmo-train", unit="step",
               disable=args.no_progress or not engines.is_root())
    stop = StopFlag().install()
    interrupted = None
    while step < total_steps:
        t0 = time.time()
        batch = batches.next_batch()
        chars_in = np.concatenate([batch["tokens_characters"], batch["tokens_characters_reverse"]])
        targets = np.concatenate([batch["next_token_id"], batch["next_token_id_reverse"]])
        sampled, tries = negatives(seed, step, ec.n_negative_samples, len(vocab))
        loss, norm = trainer.step_fn(tf.constant(chars_in), tf.constant(targets), tf.constant(sampled),
                                     tf.constant(tries, tf.int64), tf.constant([seed, step * world + rank], tf.int64))
        loss = float(loss)
        step += 1
        dt = time.time() - t0
        if step - start_step > 2:  # exclude tracing from the steady-state throughput
            steady_tokens += tokens_per_step
            steady_time += dt
        interval_loss += loss
        interval_n += 1
        bar.update(1)
        if not math.isfinite(loss):
            engines.abort(f"elmo-train: loss is {loss} at step {step}")
        if log and (step % ec.log_every == 0 or step == total_steps):
            elapsed = time.time() - interval_t
            log.log(step, {"train_perplexity": math.exp(interval_loss / interval_n), "loss": loss,
                           "grad_norm": float(norm), "throughput_train": interval_n * tokens_per_step / elapsed,
                           "epoch": (step - 1) // per_epoch + 1})
            bar.set_postfix(ppl=f"{math.exp(interval_loss / interval_n):.1f}")
            interval_loss, interval_n, interval_t = 0.0, 0, time.time()
        want_stop = stop.requested_on_any_rank()
        if step % ec.save_every == 0 or step == total_steps or want_stop:
            if engines.is_root():
                ck.save_shared(trainer.checkpoint, ckpt_dir, step)
            ck.save_rank(ckpt_dir, step, rank, trainer.carried_states(), batches.state())
            engines.barrier()
            if engines.is_root():
                ck.mark_latest(ckpt_dir, step, ec.keep_checkpoints)
        if want_stop and step < total_steps:
            interrupted = stop.signal or "a peer rank"
            break
    bar.close()
    if interrupted:
        if log:
            log.close()
        engines.log0(f"elmo-train: interrupted by {interrupted} at step {step}/{total_steps}; checkpoint written; "
                  "rerun the same command to resume")
        return EXIT_INTERRUPTED
    if not engines.is_root():
        return 0
    throughput = steady_tokens / steady_time if steady_time else None
    log.log([], {"throughput_train": throughput})
    log.close()
    result = {"step": step, "total_steps": total_steps, "batches_per_epoch": per_epoch,
              "n_train_tokens": n_train_tokens, "world_size": world, "tokens_per_step": tokens_per_step,
              "throughput_train_tokens_per_s": throughput, "skipped_lines": batches.skipped().skipped}
    if heldout:
        result["heldout_sentences"] = len(heldout)
        result["heldout_perplexity_start"] = read_json(ppl_start_path)["perplexity"]
        result["heldout_perplexity"] = trainer.heldout_perplexity(heldout, vocab, chars, ec.heldout_batch_size)
    write_json(out / "final.json", result)
    msg = f"elmo-train: {step} steps"
    if heldout:
        msg += f"; held-out perplexity {result['heldout_perplexity_start']:.1f} -> {result['heldout_perplexity']:.1f}"
    print(msg + (f"; {throughput:,.0f} tokens/s" if throughput else ""))
    return 0
