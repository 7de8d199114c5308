"""The elmo-train updates and what they end with: one compiled step per batch, a checkpoint every
save_every steps, at the last step and on a stop signal (then exit 143), and final.json with the
throughput and the held-out perplexity once the last step is done."""
from __future__ import annotations

import math
import time

import numpy as np

from norlm import engines
from norlm.files import read_json, write_json
from norlm.stop_signals import EXIT_INTERRUPTED, StopFlag


def heldout_start(trainer, plan, chars, ec, start_step: int) -> None:
    """heldout-start.json: the held-out perplexity before the first update (rank 0, once per run folder)."""
    path = plan.out / "heldout-start.json"
    if plan.heldout and engines.is_root() and not path.exists():
        write_json(path, {"step": start_step, "perplexity": trainer.heldout_perplexity(
            plan.heldout, plan.vocab, chars, ec.heldout_batch_size)})


def one_update(trainer, batches, plan, ec, step: int) -> tuple[float, object]:
    """Draw the next batch and the step's negatives, run the compiled step; (mean loss, gradient norm)."""
    import tensorflow as tf

    from norlm.elmo.trainer import negatives

    batch = batches.next_batch()
    chars_in = np.concatenate([batch["tokens_characters"], batch["tokens_characters_reverse"]])
    targets = np.concatenate([batch["next_token_id"], batch["next_token_id_reverse"]])
    sampled, tries = negatives(plan.seed, step, ec.n_negative_samples, len(plan.vocab))
    loss, norm = trainer.step_fn(tf.constant(chars_in), tf.constant(targets), tf.constant(sampled),
                                 tf.constant(tries, tf.int64),
                                 tf.constant([plan.seed, step * plan.world + plan.rank], tf.int64))
    return float(loss), norm


def train_loop(trainer, batches, plan, ec, start_step: int, progress, chars) -> int:
    """Updates from `start_step` to the plan's last step or a stop signal; the stage's exit code."""
    from norlm.corpus.shard_check import DamagedShardError
    from norlm.elmo.checkpoint import latest_step, save_training

    stop = StopFlag().install()
    step, interrupted = start_step, None
    while step < plan.total_steps:
        t0 = time.time()
        try:
            loss, norm = one_update(trainer, batches, plan, ec, step)
        except DamagedShardError as exc:  # a shard damaged in place, met when the stream reaches it
            last = latest_step(plan.ckpt_dir)
            raise DamagedShardError(f"{exc}; stopping without saving; last good checkpoint: "
                                    f"{plan.ckpt_dir / f'ckpt-{last}' if last is not None else 'none'}") from None
        step += 1
        progress.update(step, loss, time.time() - t0)
        if not math.isfinite(loss):
            engines.abort(f"elmo-train: loss is {loss} at step {step}")
        progress.log_if_due(step, loss, norm)
        want_stop = stop.requested_on_any_rank()
        if step % ec.save_every == 0 or step == plan.total_steps or want_stop:
            save_training(plan.ckpt_dir, step, ec.keep_checkpoints, trainer, batches)
        if want_stop and step < plan.total_steps:
            interrupted = stop.signal or "a peer rank"
            break
    progress.close(completed=not interrupted)
    if interrupted:
        engines.log0(f"elmo-train: interrupted by {interrupted} at step {step}/{plan.total_steps}; "
                     "checkpoint written; rerun the same command to resume")
        return EXIT_INTERRUPTED
    if engines.is_root():
        write_final(trainer, batches, plan, ec, chars, step, progress.steady_throughput())
    return 0


def write_final(trainer, batches, plan, ec, chars, step: int, throughput: float | None) -> None:
    """final.json, the completion file (written last), and the one-line summary on the console."""
    result = {"step": step, "total_steps": plan.total_steps, "batches_per_epoch": plan.per_epoch,
              "n_train_tokens": plan.n_train_tokens, "world_size": plan.world,
              "tokens_per_step": plan.tokens_per_step, "throughput_train_tokens_per_s": throughput,
              "skipped_lines": batches.skipped().skipped}
    if plan.heldout:
        result["heldout_sentences"] = len(plan.heldout)
        result["heldout_perplexity_start"] = read_json(plan.out / "heldout-start.json")["perplexity"]
        result["heldout_perplexity"] = trainer.heldout_perplexity(plan.heldout, plan.vocab, chars,
                                                                  ec.heldout_batch_size)
    write_json(plan.out / "final.json", result)
    msg = f"elmo-train: {step} steps"
    if plan.heldout:
        msg += f"; held-out perplexity {result['heldout_perplexity_start']:.1f} -> {result['heldout_perplexity']:.1f}"
    print(msg + (f"; {throughput:,.0f} tokens/s" if throughput else ""))
