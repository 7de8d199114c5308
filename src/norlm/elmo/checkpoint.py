"""Training checkpoints with exact resume: weights, Adagrad slots, step, streams, carried LSTM states.

Layout of WORK/elmo/train/ckpt/:
  ckpt-<step>.index/.data-*        shared variables (rank 0): weights, `<var>/Adagrad`, global_step
  ckpt-<step>.rank<r>.npz          per rank: carried (c, m) of every direction and layer + data state
  latest.json                      {"step": N}, written last, so a kill -9 leaves the previous one valid
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from norlm import engines
from norlm.files import atomic_path, read_json, write_json


def make_checkpoint(variables: dict[str, tf.Variable]) -> tf.train.Checkpoint:
    return tf.train.Checkpoint(**variables)


def latest_step(ckpt_dir: Path) -> int | None:
    path = Path(ckpt_dir) / "latest.json"
    return read_json(path)["step"] if path.exists() else None


def save_shared(ckpt: tf.train.Checkpoint, ckpt_dir: Path, step: int) -> None:
    ckpt.write(str(Path(ckpt_dir) / f"ckpt-{step}"))


def save_rank(ckpt_dir: Path, step: int, rank: int, states: dict[str, np.ndarray], data_state: dict[str, Any]) -> None:
    buf = io.BytesIO()
    np.savez(buf, data_state=np.array(json.dumps(data_state)), **states)
    with atomic_path(Path(ckpt_dir) / f"ckpt-{step}.rank{rank}.npz") as tmp:
        tmp.write_bytes(buf.getvalue())


def mark_latest(ckpt_dir: Path, step: int, keep: int) -> None:
    """Point latest.json at `step`, then delete all but the newest `keep` checkpoints."""
    write_json(Path(ckpt_dir) / "latest.json", {"step": step})
    steps = sorted({int(p.name.split("-")[1].split(".")[0]) for p in Path(ckpt_dir).glob("ckpt-*")})
    for old in steps[:-keep] if keep > 0 else []:
        for p in Path(ckpt_dir).glob(f"ckpt-{old}.*"):
            p.unlink()


def restore_shared(ckpt: tf.train.Checkpoint, ckpt_dir: Path, step: int) -> None:
    ckpt.read(str(Path(ckpt_dir) / f"ckpt-{step}")).assert_existing_objects_matched()


def restore_rank(ckpt_dir: Path, step: int, rank: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    path = Path(ckpt_dir) / f"ckpt-{step}.rank{rank}.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing (resume with the same number of workers as the run that saved it)")
    with np.load(path) as npz:
        states = {k: npz[k] for k in npz.files if k != "data_state"}
        data_state = json.loads(str(npz["data_state"]))
    return states, data_state


def save_training(ckpt_dir: Path, step: int, keep: int, trainer, batches) -> None:
    """Every rank's part of the checkpoint at `step` (a collective); latest.json moves once all are written."""
    if engines.is_root():
        save_shared(trainer.checkpoint, ckpt_dir, step)
    save_rank(ckpt_dir, step, engines.rank(), trainer.carried_states(), batches.state())
    engines.barrier()
    if engines.is_root():
        mark_latest(ckpt_dir, step, keep)


def restore_training(ckpt_dir: Path, step: int, trainer, batches) -> None:
    """Put the checkpoint at `step` back: shared weights and slots, this rank's states and stream positions."""
    restore_shared(trainer.checkpoint, ckpt_dir, step)
    arrays, data_state = restore_rank(ckpt_dir, step, engines.rank())
    trainer.load_carried_states(arrays)
    batches.restore(data_state)


def read_weights(train_dir: str | os.PathLike) -> tuple[dict[str, np.ndarray], int]:
    """The model weights (TF1 names, incl. softmax) of the newest checkpoint of a training folder."""
    ckpt_dir = Path(train_dir) / "ckpt"
    step = latest_step(ckpt_dir)
    if step is None:
        raise FileNotFoundError(f"{ckpt_dir}/latest.json: no checkpoint (run elmo-train first)")
    reader = tf.train.load_checkpoint(str(ckpt_dir / f"ckpt-{step}"))
    suffix = "/.ATTRIBUTES/VARIABLE_VALUE"
    out = {}
    for key in reader.get_variable_to_shape_map():
        if not key.endswith(suffix):
            continue
        name = key[: -len(suffix)].replace(".S", "/").replace("..", ".")
        if name.startswith("lm/") and not name.endswith("/Adagrad"):
            out[name] = reader.get_tensor(key)
    return out, step
