"""Pretrain BERT (MLM + NSP) with NVLAMB, phase 1 or 2, resuming exactly from the newest checkpoint.

Reads WORK/bert/tfrecords/phaseN/*.tfrecord (NVIDIA schema), writes WORK/bert/phaseN/: checkpoints
(model.ckpt-<step>, the last K kept), dllog.json (NVIDIA DLLogger lines), tensorboard/, bert_config.json
(the effective model config), run-bert-train.json, and final.json last.  Phase 2 either continues
phase 1 (same step counter and optimiser state, new total T; NorBERT) or starts from phase-1 weights
with a fresh schedule (NVIDIA), per [bert] phase2_mode.  SIGTERM/SIGUSR1 (Slurm) save a checkpoint
and stop; rerunning the same command resumes.  Multi-worker: launch under horovodrun/mpirun/srun.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from norlm import engines
from norlm.errors import StageError
from norlm.files import write_json, write_run_record
from norlm.layout import layout_of
from norlm.stop_signals import EXIT_INTERRUPTED, StopFlag


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phase", type=int, choices=(1, 2), default=1,
                        help="1: seq 128 data, schedule T=bert.phase1.train_steps; 2: seq 512, continues or restarts")
    parser.add_argument("--input-dir", default=None, help="TFRecord folder (default WORK/bert/tfrecords/phaseN)")
    parser.add_argument("--output-dir", default=None, help="checkpoint/log folder (default WORK/bert/phaseN)")
    parser.add_argument("--init-checkpoint", default=None,
                        help="phase 2 start point (default: newest checkpoint of WORK/bert/phase1)")
    parser.add_argument("--vocab", default=None, help="the vocab.txt the records were built with (checked against the manifest; default WORK/vocab/vocab.txt)")
    parser.add_argument("--xla", action="store_true", help="compile the training step with XLA (jit_compile)")
    parser.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default=None,
                        help="override bert.precision")
    parser.add_argument("--eval", dest="eval_dir", default=None, metavar="DIR",
                        help="after training, evaluate on the held-out TFRecords in DIR (eval_results.json)")
    parser.add_argument("--stop-at", type=int, default=None,
                        help="stop (with a checkpoint, without final.json) once the global step reaches this")
    parser.add_argument("--verify-data", choices=("size", "sha256"), default="size",
                        help="start-up check of the TFRecord files against manifest.json: sizes (default, one "
                             "stat per file) or sizes and sha256 (reads every byte, ~2 s per GB)")
    parser.add_argument("--force", action="store_true",
                        help="train even when the disk pre-flight finds too little space for the checkpoints")


def training_dataset(files: list[str], batch_size: int, seq_len: int, max_pred: int, seed: int,
                     skip_batches: int = 0, shuffle_buffer: int = 100):
    """This rank's endless, deterministic batch stream from position `skip_batches` (train/input.py)."""
    from norlm.bert.train.input import make_dataset

    try:
        return make_dataset(files, batch_size, seq_len, max_pred, is_training=True, seed=seed, rank=engines.rank(),
                            size=engines.size(), skip_batches=skip_batches, shuffle_buffer=shuffle_buffer)
    except ValueError as exc:
        raise StageError(str(exc)) from None


def main(args: argparse.Namespace, cfg) -> int:
    engines.init(cfg.run.engine)
    engines.pin_gpu()
    import tensorflow as tf

    from norlm.bert.model import count_parameters
    from norlm.bert.train.checkpoint import CheckpointKeeper
    from norlm.bert.train.checks import (check_files, check_records, check_vocab_file, checkpoint_preflight,
                                         resolve_model_config, training_input)
    from norlm.bert.train.input import guard_data_loss
    from norlm.bert.train.resume import choose_start
    from norlm.bert.train.trainer import Trainer

    phase, bcfg = args.phase, cfg.bert
    pcfg = bcfg.phase(phase)
    lay = layout_of(cfg)
    in_dir = Path(args.input_dir) if args.input_dir else lay.bert_records(phase)
    out_dir = Path(args.output_dir) if args.output_dir else lay.bert_train(phase)
    vocab_path = Path(args.vocab) if args.vocab else lay.vocab_txt
    precision = args.precision or bcfg.precision
    xla = args.xla or bcfg.xla
    seed = cfg.run.seed

    data = training_input(in_dir, cfg.bert_data.phase(phase), phase)
    files_note = check_files(data, phase, full=args.verify_data == "sha256")
    check_vocab_file(data, vocab_path)
    bert_cfg, config_path = resolve_model_config(cfg, data, vocab_path)
    data_info = check_records(bert_cfg, data, config_path)

    if bcfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    trainer = Trainer(bert_cfg, bcfg, pcfg, seed, precision=precision, xla=xla)
    state = trainer.state
    keeper = CheckpointKeeper(out_dir, trainer.model, trainer.opt, state, keep=bcfg.keep_checkpoints)
    start_note = choose_start(keeper, trainer, phase, pcfg, bcfg, args.init_checkpoint, lay.bert_train(1))
    restored_step = int(state.global_step.numpy())
    if restored_step >= pcfg.train_steps and (out_dir / "final.json").exists() and not args.eval_dir:
        engines.log0(f"bert-train phase {phase}: already complete at step {restored_step} ({out_dir / 'final.json'})")
        return 0
    checkpoint_preflight(out_dir, trainer.all_variables(), bcfg.keep_checkpoints, args.force)
    state.phase.assign(phase)
    state.world_size.assign(engines.size())
    engines.broadcast_variables(trainer.all_variables())

    seq_len, max_pred = data.max_seq_length, data.max_predictions_per_seq
    global_batch = pcfg.train_batch_size * pcfg.accumulation_steps * engines.size()
    stop_at = min(pcfg.train_steps, args.stop_at) if args.stop_at else pcfg.train_steps
    if engines.is_root():
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / "bert_config.json", bert_cfg.to_json_dict())
        write_run_record(out_dir, cfg, "bert-train", phase=phase, precision=precision, xla=xla,
                         workers=engines.size(), global_batch=global_batch, input_dir=str(in_dir),
                         model_config=str(config_path), start=start_note, data_check=data_info,
                         files_check=files_note)
    engines.log0(f"bert-train phase {phase}: {start_note}; {count_parameters(trainer.model):,} parameters, "
              f"vocab {bert_cfg.vocab_size}, seq {seq_len}/{max_pred}, global batch {global_batch} "
              f"({pcfg.train_batch_size} x {pcfg.accumulation_steps} x {engines.size()}), T={pcfg.train_steps}, "
              f"{precision}{' +XLA' if xla else ''}, {len(data.files)} files")
    batches = guard_data_loss(iter(training_dataset(data.files, pcfg.train_batch_size, seq_len, max_pred, seed,
                                                    skip_batches=int(state.input_position.numpy()),
                                                    shuffle_buffer=bcfg.shuffle_buffer)),
                              data.files, lambda: keeper.latest)
    run = dict(phase=phase, out_dir=out_dir, global_batch=global_batch, stop_at=stop_at, precision=precision,
               xla=xla, seed=seed, start_note=start_note, seq_len=seq_len, max_pred=max_pred)
    return train_loop(trainer, keeper, batches, cfg, args, bert_cfg, run)


def train_loop(trainer, keeper, batches, cfg, args, bert_cfg, run: dict) -> int:
    """Updates until the phase's T (or --stop-at, or a stop signal), then the checkpoint and summary."""
    from norlm.bert.train.progress import Progress

    bcfg, state, root = cfg.bert, trainer.state, engines.is_root()
    phase, out_dir, stop_at = run["phase"], run["out_dir"], run["stop_at"]
    total = bcfg.phase(phase).train_steps
    stop = StopFlag().install()
    start = int(state.global_step.numpy())
    run_info = {"stage": "bert-train", "phase": phase, "max_seq_length": run["seq_len"],
                "max_predictions_per_seq": run["max_pred"], "global_batch": run["global_batch"],
                "workers": engines.size(), "start_step": start, "train_steps": total, "precision": run["precision"]}
    progress = Progress(out_dir, bcfg, run["global_batch"], total, stop_at, start, run["precision"], root, run_info)
    status = "completed"
    while int(state.global_step.numpy()) < stop_at:
        t0 = time.time()
        metrics = engines.mean_metrics(trainer.step(batches, run["seed"]))  # logs show the mean over ranks
        progress.timed(time.time() - t0, metrics)
        step = int(state.global_step.numpy())
        if run["precision"] != "fp16" and (not metrics["applied"] or not math.isfinite(metrics["total_loss"])):
            engines.log0(f"norlm bert-train: non-finite loss or gradient (total_loss {metrics['total_loss']}) at "
                      f"update {step + 1}; stopping without saving; last good checkpoint: {keeper.latest or 'none'}",
                      file=sys.stderr)
            return 3
        if not metrics["applied"]:
            continue  # fp16 overflow: scale halved, update skipped, counter unchanged
        progress.applied(step, metrics, state.loss_scale)
        want_stop = stop.requested_on_any_rank()
        if step % bcfg.save_checkpoints_steps == 0 or want_stop:
            if root:
                keeper.save()
            progress.checkpointed()
        if want_stop:
            status = f"interrupted by {stop.signal or 'a peer rank'}"
            break

    if root:
        keeper.save()
    engines.barrier()  # no rank exits (and lets srun end the step) before rank 0's checkpoint is written
    final_step = int(state.global_step.numpy())
    eval_results = None
    if args.eval_dir and root and status == "completed":
        from norlm.bert.train.evaluation import evaluate

        eval_results = evaluate(trainer, args.eval_dir, bcfg, run["seq_len"], run["max_pred"])
        write_json(out_dir / "eval_results.json", eval_results)
        print("eval: " + "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in eval_results.items()), flush=True)
    if status != "completed" or final_step < total:
        progress.close()
        engines.log0(f"bert-train phase {phase}: stopped at step {final_step}/{total} ({status}); "
                  f"checkpoint {keeper.latest}; rerun the same command to resume")
        return 0 if status == "completed" else EXIT_INTERRUPTED
    if root:
        progress.close(steady=True)
        write_summary(keeper, bert_cfg, run, progress, final_step, total, eval_results)
    return 0


def write_summary(keeper, bert_cfg, run: dict, progress, final_step: int, total: int, eval_results) -> None:
    """final.json, the completion file: where the phase ended and how it went."""
    from norlm.bert.train.checkpoint import read_state

    out_dir = run["out_dir"]
    summary = {
        "phase": run["phase"], "global_step": final_step, "train_steps": total, "checkpoint": keeper.latest,
        "state": read_state(keeper.latest), "vocab_size": bert_cfg.vocab_size, "max_seq_length": run["seq_len"],
        "max_predictions_per_seq": run["max_pred"], "global_batch": run["global_batch"], "workers": engines.size(),
        "precision": run["precision"], "xla": run["xla"], "start": run["start_note"],
        "updates_this_run": final_step - progress.start_step, "seconds_this_run": progress.seconds(),
        "steady_throughput_seq_s": progress.steady_throughput(),
        "first": progress.first, "last": progress.last, "eval": eval_results,
        "dllog": str(out_dir / "dllog.json"), "bert_config": str(out_dir / "bert_config.json"),
    }
    write_json(out_dir / "final.json", summary)
    print(f"bert-train phase {run['phase']}: done at step {final_step}; {out_dir / 'final.json'}", flush=True)
