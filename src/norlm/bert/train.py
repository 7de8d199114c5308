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
import json
import math
import os
import sys
import time
from pathlib import Path

from norlm import dist
from norlm.signals import EXIT_INTERRUPTED, StopFlag
from norlm.config import REPO_ROOT, work_dir
from norlm.files import write_json, write_run_record

FEATURES_INT = ("input_ids", "input_mask", "segment_ids", "masked_lm_positions", "masked_lm_ids",
                "next_sentence_labels")


class InputError(ValueError):
    """Training input or config that cannot be used; the message names both values."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phase", type=int, choices=(1, 2), default=1,
                        help="1: seq 128 data, schedule T=bert.phase1.train_steps; 2: seq 512, continues or restarts")
    parser.add_argument("--input-dir", default=None, help="TFRecord folder (default WORK/bert/tfrecords/phaseN)")
    parser.add_argument("--output-dir", default=None, help="checkpoint/log folder (default WORK/bert/phaseN)")
    parser.add_argument("--init-checkpoint", default=None,
                        help="phase 2 start point (default: newest checkpoint of WORK/bert/phase1)")
    parser.add_argument("--vocab", default=None, help="vocab.txt giving vocab_size (default WORK/vocab/vocab.txt)")
    parser.add_argument("--xla", action="store_true", help="compile the training step with XLA (jit_compile)")
    parser.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default=None,
                        help="override bert.precision")
    parser.add_argument("--eval", dest="eval_dir", default=None, metavar="DIR",
                        help="after training, evaluate on the held-out TFRecords in DIR (eval_results.json)")
    parser.add_argument("--stop-at", type=int, default=None,
                        help="stop (with a checkpoint, without final.json) once the global step reaches this")


# --------------------------------------------------------------------------- input

def training_dataset(files: list[str], batch_size: int, seq_len: int, max_pred: int, seed: int,
                     skip_batches: int = 0, shuffle_buffer: int = 100):
    """This rank's endless, deterministic batch stream from position `skip_batches` (norlm.bert.input)."""
    from norlm.bert.input import make_dataset

    try:
        return make_dataset(files, batch_size, seq_len, max_pred, is_training=True, seed=seed, rank=dist.rank(),
                            size=dist.size(), skip_batches=skip_batches, shuffle_buffer=shuffle_buffer)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def eval_dataset(files: list[str], batch_size: int, seq_len: int, max_pred: int):
    from norlm.bert.input import make_dataset

    return make_dataset(files, batch_size, seq_len, max_pred, is_training=False)


def inspect_records(files: list[str], seq_len: int, max_pred: int, limit: int = 256) -> dict:
    """Length of the stored features and the largest token id in the first records (checks input)."""
    import numpy as np
    import tensorflow as tf

    max_id = -1
    lengths = None
    count = 0
    for path in sorted(files):
        for raw in tf.data.TFRecordDataset(path).take(limit - count):
            example = tf.train.Example.FromString(raw.numpy())
            feats = example.features.feature
            missing = [k for k in (*FEATURES_INT, "masked_lm_weights") if k not in feats]
            if missing:
                raise InputError(f"{path}: record {count + 1} lacks feature(s) {', '.join(missing)} "
                                 "(not an NVIDIA-schema pretraining record)")
            ids = np.asarray(feats["input_ids"].int64_list.value)
            lm_ids = np.asarray(feats["masked_lm_ids"].int64_list.value)
            rec_lengths = (len(ids), len(feats["masked_lm_positions"].int64_list.value))
            if lengths is None:
                lengths = rec_lengths
            if rec_lengths != (seq_len, max_pred):
                raise InputError(f"{path}: record {count + 1} has max_seq_length {rec_lengths[0]} and "
                                 f"max_predictions_per_seq {rec_lengths[1]}, but the config says {seq_len} and "
                                 f"{max_pred} ([bert_data.phaseN])")
            max_id = max(max_id, int(ids.max(initial=0)), int(lm_ids.max(initial=0)))
            count += 1
        if count >= limit:
            break
    if count == 0:
        raise InputError(f"no records in {', '.join(sorted(files)[:3])}: nothing to train on")
    return {"records_checked": count, "max_token_id": max_id}


# --------------------------------------------------------------------------- set-up checks

def read_vocab_size(path: Path) -> int:
    with open(path, encoding="utf-8") as fh:
        return sum(1 for _ in fh)


def resolve_model_config(cfg, vocab_path: Path | None):
    """The effective BertConfig: the JSON, with vocab_size from vocab.txt or checked against it."""
    from norlm.bert.model import BertConfig

    path = Path(cfg.bert.model_config)
    if not path.exists() and not path.is_absolute():
        path = REPO_ROOT / path
    bert_cfg = BertConfig.from_json(path)
    mode = cfg.bert.vocab_size_from
    if mode not in ("vocab", "config"):
        raise InputError(f"bert.vocab_size_from must be 'vocab' or 'config', not {mode!r}")
    vocab_n = read_vocab_size(vocab_path) if vocab_path is not None and vocab_path.exists() else None
    if mode == "vocab":
        if vocab_n is None:
            raise InputError(f"bert.vocab_size_from = 'vocab' but {vocab_path} does not exist")
        return bert_cfg.replace(vocab_size=vocab_n), path
    if bert_cfg.vocab_size <= 0:
        raise InputError(f"{path}: vocab_size is {bert_cfg.vocab_size}; set it or use bert.vocab_size_from='vocab'")
    if vocab_n is not None and vocab_n != bert_cfg.vocab_size:
        raise InputError(f"vocab_size mismatch: {path} says vocab_size {bert_cfg.vocab_size} but {vocab_path} "
                         f"has {vocab_n} entries")
    return bert_cfg, path


def check_input(bert_cfg, files: list[str], seq_len: int, max_pred: int, manifest: dict | None,
                manifest_path: Path | None, config_path: Path) -> dict:
    """Refuse a model/data combination that cannot train, naming both values."""
    if manifest:
        for key, want in (("max_seq_length", seq_len), ("max_predictions_per_seq", max_pred),
                          ("vocab_size", bert_cfg.vocab_size)):
            have = manifest.get(key)
            if isinstance(have, int) and have != want:
                raise InputError(f"{key} mismatch: {manifest_path} says {have}, the training config says {want}")
    if seq_len > bert_cfg.max_position_embeddings:
        raise InputError(f"max_seq_length {seq_len} exceeds max_position_embeddings "
                         f"{bert_cfg.max_position_embeddings} of {config_path}")
    info = inspect_records(files, seq_len, max_pred)
    if info["max_token_id"] >= bert_cfg.vocab_size:
        raise InputError(f"vocab_size mismatch: the TFRecords contain token id {info['max_token_id']} but the model "
                         f"has vocab_size {bert_cfg.vocab_size} ({config_path})")
    return info


# --------------------------------------------------------------------------- the training step

class Trainer:
    """Model + optimiser + state, and the compiled micro-step / update functions."""

    def __init__(self, bert_cfg, train_cfg, phase_cfg, seed: int, precision: str = "fp32", xla: bool = False):
        import tensorflow as tf

        from norlm.bert.checkpoint import TrainState
        from norlm.bert.lamb import Lamb
        from norlm.bert.model import BertPretrainingModel

        if precision not in ("fp32", "fp16", "bf16"):
            raise InputError(f"bert.precision must be fp32, fp16 or bf16, not {precision!r}")
        self.tf = tf
        self.precision = precision
        compute = {"fp32": tf.float32, "fp16": tf.float16, "bf16": tf.bfloat16}[precision]
        self.model = BertPretrainingModel(bert_cfg, seed=seed, compute_dtype=compute)
        self.names = list(self.model.vars)
        self.opt = Lamb(self.model.vars, kind=train_cfg.optimizer, beta_1=train_cfg.beta_1,
                        beta_2=train_cfg.beta_2, epsilon=train_cfg.epsilon, weight_decay=train_cfg.weight_decay)
        self.state = TrainState(train_cfg.init_loss_scale if precision == "fp16" else 1.0)
        self.cfg = train_cfg
        self.accum_steps = phase_cfg.accumulation_steps
        self.set_schedule(phase_cfg)
        if self.accum_steps > 1:
            self.accum = {n: tf.Variable(tf.zeros_like(v), trainable=False) for n, v in self.model.vars.items()}
            self.batch_finite = tf.Variable(True, trainable=False)
        self._micro = tf.function(self._micro_step, jit_compile=xla, reduce_retracing=True)
        self._fused = tf.function(self._fused_step, jit_compile=xla, reduce_retracing=True)
        self._apply = tf.function(self._apply_accumulated)

    def set_schedule(self, phase_cfg) -> None:
        lr = phase_cfg.learning_rate * (dist.size() if self.cfg.scale_lr_by_workers else 1)
        self.init_lr, self.total_steps, self.warmup_steps = lr, phase_cfg.train_steps, phase_cfg.warmup_steps

    def all_variables(self) -> list:
        return list(self.model.vars.values()) + self.opt.slot_variables() + self.state.variables_list()

    # -- pieces used inside tf.function
    def _gradients(self, batch, seed):
        tf = self.tf
        from norlm.bert.losses import pretraining_losses

        variables = [self.model.vars[n] for n in self.names]
        scale = self.state.loss_scale if self.precision == "fp16" else tf.constant(1.0)
        with tf.GradientTape() as tape:
            out = self.model(batch["input_ids"], batch["input_mask"], batch["segment_ids"],
                             batch["masked_lm_positions"], training=True, seed=seed)
            losses = pretraining_losses(out, batch)
            scaled = losses["total_loss"] * scale / float(self.accum_steps)
        tape = dist.distributed_tape(tape, fp16_compression=self.precision == "fp16")
        grads = tape.gradient(scaled, variables)
        grads = [tf.convert_to_tensor(g) / scale for g in grads]
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
        from norlm.bert.lamb import clip_by_global_norm

        clipped, norm = clip_by_global_norm(grads, self.cfg.clip_norm)
        losses["grad_norm"] = norm
        return clipped, finite, losses

    def _update(self, grads: list, finite):
        """Apply LAMB if `finite` (step += 1) else shrink the loss scale; returns the LR used."""
        tf = self.tf
        from norlm.bert.schedule import learning_rate

        st = self.state
        lr = learning_rate(st.global_step, self.init_lr, self.total_steps, self.warmup_steps, self.cfg.optimizer)
        named = dict(zip(self.names, grads))

        def apply():
            self.opt.apply(named, self.model.vars, lr, st.global_step + 1)
            st.global_step.assign_add(1)
            if self.precision == "fp16":
                st.good_steps.assign_add(1)
                grow = st.good_steps >= self.cfg.loss_scale_window
                st.loss_scale.assign(tf.where(grow, st.loss_scale * 2.0, st.loss_scale))
                st.good_steps.assign(tf.where(grow, tf.constant(0, tf.int64), st.good_steps))
            return tf.constant(True)

        def skip():
            st.loss_scale.assign(tf.maximum(st.loss_scale / 2.0, 1.0))
            st.good_steps.assign(0)
            return tf.constant(False)

        # fp16: an overflow halves the scale and skips; fp32/bf16: a non-finite gradient skips the update
        # too (weights stay good) and the trainer stops the run
        applied = tf.cond(finite, apply, skip if self.precision == "fp16" else (lambda: tf.constant(False)))
        return lr, applied

    def _fused_step(self, batch, seed):
        grads, finite, losses = self._gradients(batch, seed)
        lr, applied = self._update(grads, finite)
        losses.update(learning_rate=lr, applied=applied)
        return losses

    def _micro_step(self, batch, seed):
        grads, finite, losses = self._gradients(batch, seed)
        for name, g in zip(self.names, grads):
            self.accum[name].assign_add(g)
        self.batch_finite.assign(self.batch_finite & finite)
        return losses

    def _apply_accumulated(self):
        tf = self.tf
        grads = [self.accum[n].read_value() for n in self.names]
        lr, applied = self._update(grads, self.batch_finite.read_value())
        for n in self.names:
            self.accum[n].assign(tf.zeros_like(self.accum[n]))
        self.batch_finite.assign(True)
        return lr, applied

    def dropout_seed(self, run_seed: int):
        """Stateless dropout seed from (run seed, micro-batch position, rank): the same after resume."""
        position = int(self.state.input_position.numpy())
        return self.tf.constant([run_seed, position * dist.size() + dist.rank()], self.tf.int64)

    def step(self, batches_iter, run_seed: int) -> dict:
        """One update (N micro-batches); returns python floats of the last micro-batch's metrics."""
        tf = self.tf
        if self.accum_steps == 1:
            seed = self.dropout_seed(run_seed)
            out = self._fused(next(batches_iter), seed)
            self.state.input_position.assign_add(1)
        else:
            for _ in range(self.accum_steps):
                seed = self.dropout_seed(run_seed)
                out = self._micro(next(batches_iter), seed)
                self.state.input_position.assign_add(1)
            lr, applied = self._apply()
            out = dict(out, learning_rate=lr, applied=applied)
        return {k: (bool(v.numpy()) if v.dtype == tf.bool else float(v.numpy())) for k, v in out.items()}


# --------------------------------------------------------------------------- the stage

def _format_eta(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _phase_data(cfg, phase: int):
    return cfg.bert_data.phase1 if phase == 1 else cfg.bert_data.phase2


def main(args: argparse.Namespace, cfg) -> int:
    try:
        return _run(args, cfg)
    except (InputError, FileNotFoundError, ValueError) as exc:
        print(f"norlm bert-train: error: {exc}", file=sys.stderr)
        return 2


def _run(args, cfg) -> int:
    dist.init()
    dist.pin_gpu()
    import numpy as np
    import tensorflow as tf

    from norlm.bert.checkpoint import CheckpointKeeper, load_model_weights, read_state, resolve_checkpoint
    from norlm.dllogger import DLLogger

    phase = args.phase
    bcfg = cfg.bert
    pcfg = bcfg.phase(phase)
    dcfg = _phase_data(cfg, phase)
    work = work_dir(cfg)
    in_dir = Path(args.input_dir or work / "bert" / "tfrecords" / f"phase{phase}")
    out_dir = Path(args.output_dir or work / "bert" / f"phase{phase}")
    vocab_path = Path(args.vocab) if args.vocab else work / "vocab" / "vocab.txt"
    precision = args.precision or bcfg.precision
    xla = args.xla or bcfg.xla
    seed = cfg.run.seed

    files = sorted(str(p) for p in in_dir.glob("*.tfrecord"))
    if not files:
        raise InputError(f"{in_dir}: no *.tfrecord files (run `norlm bert-data --phase {phase}` first)")
    manifest_path = in_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    bert_cfg, config_path = resolve_model_config(cfg, vocab_path)
    seq_len, max_pred = dcfg.max_seq_length, dcfg.max_predictions_per_seq
    data_info = check_input(bert_cfg, files, seq_len, max_pred, manifest, manifest_path, config_path)

    if bcfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    trainer = Trainer(bert_cfg, bcfg, pcfg, seed, precision=precision, xla=xla)
    state = trainer.state
    keeper = CheckpointKeeper(out_dir, trainer.model, trainer.opt, state, keep=bcfg.keep_checkpoints)

    # ---- where to start: our own newest checkpoint, else phase 1's end (phase 2), else scratch
    start_note = "from scratch"
    if keeper.latest:
        keeper.restore(keeper.latest)
        start_note = f"resumed from {keeper.latest}"
        saved_world = int(state.world_size.numpy())
        if saved_world != dist.size():
            dist.log0(f"checkpoint was written by {saved_world} worker(s), now {dist.size()}: "
                      "the data order restarts")
            state.input_position.assign(0)
    elif phase == 2:
        init = args.init_checkpoint or str(work / "bert" / "phase1")
        prefix = resolve_checkpoint(init)
        if bcfg.phase2_mode == "continue":
            keeper.restore(prefix)
            state.input_position.assign(0)
            start_note = f"continuing phase 1 from {prefix} at step {int(state.global_step.numpy())}"
        elif bcfg.phase2_mode == "fresh":
            load_model_weights(trainer.model, prefix)
            start_note = f"fresh schedule from the weights of {prefix}"
        else:
            raise InputError(f"bert.phase2_mode must be 'continue' or 'fresh', not {bcfg.phase2_mode!r}")
    elif args.init_checkpoint:
        load_model_weights(trainer.model, args.init_checkpoint)
        start_note = f"weights from {args.init_checkpoint}"
    restored_step = int(state.global_step.numpy())
    if restored_step >= pcfg.train_steps and (out_dir / "final.json").exists() and not args.eval_dir:
        dist.log0(f"bert-train phase {phase}: already complete at step {restored_step} ({out_dir / 'final.json'})")
        return 0
    if phase == 2 and start_note.startswith("continuing") and restored_step >= pcfg.train_steps:
        raise InputError(f"phase 2 continues phase 1 at step {restored_step}, but bert.phase2.train_steps is "
                         f"{pcfg.train_steps}: with phase2_mode='continue' T is cumulative and must be larger")
    state.phase.assign(phase)
    state.world_size.assign(dist.size())
    dist.broadcast_variables(trainer.all_variables())

    global_batch = pcfg.train_batch_size * pcfg.accumulation_steps * dist.size()
    total = pcfg.train_steps
    stop_at = min(total, args.stop_at) if args.stop_at else total
    root = dist.is_root()
    if root:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / "bert_config.json", bert_cfg.to_json_dict())
        write_run_record(out_dir, cfg, "bert-train", phase=phase, precision=precision, xla=xla,
                         workers=dist.size(), global_batch=global_batch, input_dir=str(in_dir),
                         model_config=str(config_path), start=start_note, data_check=data_info)
    from norlm.bert.model import count_parameters

    dist.log0(f"bert-train phase {phase}: {start_note}; {count_parameters(trainer.model):,} parameters, "
              f"vocab {bert_cfg.vocab_size}, seq {seq_len}/{max_pred}, global batch {global_batch} "
              f"({pcfg.train_batch_size} x {pcfg.accumulation_steps} x {dist.size()}), T={total}, {precision}"
              f"{' +XLA' if xla else ''}, {len(files)} files")

    stop = StopFlag().install()
    dll = DLLogger(out_dir / "dllog.json") if root else None
    tb = tf.summary.create_file_writer(str(out_dir / "tensorboard")) if root else None

    batches = iter(training_dataset(files, pcfg.train_batch_size, seq_len, max_pred, seed,
                                    skip_batches=int(state.input_position.numpy()),
                                    shuffle_buffer=bcfg.shuffle_buffer))
    start_step = int(state.global_step.numpy())
    t_start = time.time()
    t_interval = time.time()
    interval_losses: list[float] = []
    interval_updates = 0
    steady: list[float] = []
    since_restart = 0
    first_metrics = None
    last = None
    status = "completed"
    while int(state.global_step.numpy()) < stop_at:
        t0 = time.time()
        metrics = dist.mean_metrics(trainer.step(batches, seed))  # logs show the mean over ranks
        dt = time.time() - t0
        since_restart += 1
        if since_restart > 6:
            steady.append(dt)
        if first_metrics is None:
            first_metrics = metrics
        last = metrics
        step = int(state.global_step.numpy())
        if precision != "fp16" and (not metrics["applied"] or not math.isfinite(metrics["total_loss"])):
            dist.log0(f"norlm bert-train: non-finite loss or gradient (total_loss {metrics['total_loss']}) at "
                      f"update {step + 1}; stopping without saving; last good checkpoint: {keeper.latest or 'none'}",
                      file=sys.stderr)
            return 3
        if not metrics["applied"]:
            continue  # fp16 overflow: scale halved, update skipped, counter unchanged
        interval_losses.append(metrics["total_loss"])
        interval_updates += 1
        dll_step = step + 1  # NVIDIA's hook logs global_step + 1
        if root and (dll_step % bcfg.display_loss_steps == 0 or dll_step == 1):
            elapsed = time.time() - t_interval
            data = {"throughput_train": global_batch * interval_updates / max(elapsed, 1e-9),
                    "mlm_loss": metrics["mlm_loss"], "nsp_loss": metrics["nsp_loss"],
                    "total_loss": metrics["total_loss"],
                    "avg_loss_step": float(np.mean(interval_losses)),
                    "learning_rate": str(np.float32(metrics["learning_rate"]))}
            if precision == "fp16":
                data["loss_scaler"] = int(state.loss_scale.numpy())
            dll.log(dll_step, data)
            with tb.as_default(step=step):
                for key in ("mlm_loss", "nsp_loss", "total_loss", "mlm_accuracy", "nsp_accuracy",
                            "learning_rate", "grad_norm"):
                    tf.summary.scalar(key, metrics[key])
                tf.summary.scalar("throughput_train", data["throughput_train"])
            t_interval, interval_losses, interval_updates = time.time(), [], 0
        if root and (step % bcfg.console_steps == 0 or step == stop_at):
            done = step - start_step
            rate = done / max(time.time() - t_start, 1e-9)
            seqs = global_batch * rate
            print(f"step {step}/{total}  {seqs:8.1f} seq/s  mlm {metrics['mlm_loss']:.4f}  "
                  f"nsp {metrics['nsp_loss']:.4f}  total {metrics['total_loss']:.4f}  "
                  f"mlm_acc {metrics['mlm_accuracy']:.3f}  nsp_acc {metrics['nsp_accuracy']:.3f}  "
                  f"lr {metrics['learning_rate']:.3e}  ETA {_format_eta((stop_at - step) / max(rate, 1e-9))}",
                  flush=True)
        want_stop = stop.requested_on_any_rank()
        if step % bcfg.save_checkpoints_steps == 0 or want_stop:
            if root:
                keeper.save()
            since_restart = 0
        if want_stop:
            status = f"interrupted by {stop.signal or 'a peer rank'}"
            break

    if root:
        keeper.save()
    dist.barrier()  # no rank exits (and lets srun end the step) before rank 0's checkpoint is written
    final_step = int(state.global_step.numpy())
    eval_results = None
    if args.eval_dir and root and status == "completed":
        eval_results = evaluate(trainer, args.eval_dir, bcfg, seq_len, max_pred)
        write_json(out_dir / "eval_results.json", eval_results)
        print("eval: " + "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in eval_results.items()), flush=True)
    if status != "completed" or final_step < total:
        if root:
            dll.close()
            tb.close()
        dist.log0(f"bert-train phase {phase}: stopped at step {final_step}/{total} ({status}); "
                  f"checkpoint {keeper.latest}; rerun the same command to resume")
        return 0 if status == "completed" else EXIT_INTERRUPTED

    if root:
        steady_tp = global_batch / float(np.mean(steady)) if steady else None
        if steady_tp is not None:
            dll.log([], {"throughput_train": steady_tp})
        dll.close()
        tb.close()
        ckpt_state = read_state(keeper.latest)
        summary = {
            "phase": phase, "global_step": final_step, "train_steps": total, "checkpoint": keeper.latest,
            "state": ckpt_state, "vocab_size": bert_cfg.vocab_size, "max_seq_length": seq_len,
            "max_predictions_per_seq": max_pred, "global_batch": global_batch, "workers": dist.size(),
            "precision": precision, "xla": xla, "start": start_note,
            "updates_this_run": final_step - start_step, "seconds_this_run": round(time.time() - t_start, 2),
            "steady_throughput_seq_s": steady_tp,
            "first": first_metrics, "last": last, "eval": eval_results,
            "dllog": str(out_dir / "dllog.json"), "bert_config": str(out_dir / "bert_config.json"),
        }
        write_json(out_dir / "final.json", summary)
        print(f"bert-train phase {phase}: done at step {final_step}; {out_dir / 'final.json'}", flush=True)
    return 0


def evaluate(trainer: Trainer, eval_dir: str, bcfg, seq_len: int, max_pred: int) -> dict:
    """NVIDIA's eval metrics on held-out TFRecords: weighted MLM accuracy/loss, NSP accuracy/loss."""
    import numpy as np
    import tensorflow as tf

    from norlm.bert.losses import pretraining_losses

    files = sorted(str(p) for p in Path(eval_dir).glob("*.tfrecord"))
    if not files:
        raise InputError(f"{eval_dir}: no *.tfrecord files to evaluate on")
    model = trainer.model

    @tf.function
    def run(batch):
        out = model(batch["input_ids"], batch["input_mask"], batch["segment_ids"], batch["masked_lm_positions"])
        losses = pretraining_losses(out, batch)
        w = tf.reduce_sum(batch["masked_lm_weights"])
        return losses, w, tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)

    sums = {"mlm_loss": 0.0, "mlm_acc": 0.0, "nsp_loss": 0.0, "nsp_acc": 0.0, "w": 0.0, "n": 0.0}
    for i, batch in enumerate(eval_dataset(files, bcfg.eval_batch_size, seq_len, max_pred)):
        if i >= bcfg.eval_batches:
            break
        losses, w, n = run(batch)
        w, n = float(w), float(n)
        sums["mlm_loss"] += float(losses["mlm_loss"]) * w
        sums["mlm_acc"] += float(losses["mlm_accuracy"]) * w
        sums["nsp_loss"] += float(losses["nsp_loss"]) * n
        sums["nsp_acc"] += float(losses["nsp_accuracy"]) * n
        sums["w"] += w
        sums["n"] += n
    return {"masked_lm_accuracy": sums["mlm_acc"] / max(sums["w"], 1e-9),
            "masked_lm_loss": sums["mlm_loss"] / max(sums["w"], 1e-9),
            "next_sentence_accuracy": sums["nsp_acc"] / max(sums["n"], 1e-9),
            "next_sentence_loss": sums["nsp_loss"] / max(sums["n"], 1e-9),
            "sequences": int(sums["n"]), "files": len(files), "checked": bool(np.isfinite(sums["mlm_loss"]))}
