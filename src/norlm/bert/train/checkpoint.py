"""Training checkpoints: weights, optimiser slots, step, loss-scale state and input position.

One `tf.train.Checkpoint` with three parts: ``model`` (the TF1-named weights), ``optimizer`` (LAMB/Adam
slots) and ``state`` (global step, loss scale, good-step counter, micro-batches consumed per rank).
Files are named like NVIDIA's (``model.ckpt-<step>.index`` / ``.data-*`` + ``checkpoint``), the last K
are kept, and every save is an atomic rename by TensorFlow.  Other stages only need
`load_model_weights`; the trainer uses `TrainState` and `CheckpointKeeper`.
"""
from __future__ import annotations

import os
from pathlib import Path

import tensorflow as tf

CHECKPOINT_NAME = "model.ckpt"


class TrainState(tf.Module):
    """Everything besides weights and slots that an exact resume needs."""

    def __init__(self, init_loss_scale: float = 1.0):
        super().__init__(name="train_state")
        self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        self.loss_scale = tf.Variable(float(init_loss_scale), dtype=tf.float32, trainable=False,
                                      name="loss_scale")
        self.good_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="good_steps")
        # micro-batches this rank has drawn from its input stream (same count on every rank)
        self.input_position = tf.Variable(0, dtype=tf.int64, trainable=False, name="input_position")
        self.world_size = tf.Variable(1, dtype=tf.int64, trainable=False, name="world_size")
        self.phase = tf.Variable(1, dtype=tf.int64, trainable=False, name="phase")

    def as_dict(self) -> dict:
        return {"global_step": int(self.global_step.numpy()), "loss_scale": float(self.loss_scale.numpy()),
                "good_steps": int(self.good_steps.numpy()), "input_position": int(self.input_position.numpy()),
                "world_size": int(self.world_size.numpy()), "phase": int(self.phase.numpy())}

    def variables_list(self) -> list[tf.Variable]:
        return [self.global_step, self.loss_scale, self.good_steps, self.input_position, self.world_size,
                self.phase]


def newest_checkpoint(directory: str | os.PathLike) -> str | None:
    """The highest-step complete `model.ckpt-<step>` in a directory, else TF's `checkpoint` entry.

    TensorFlow writes the `.index` file last, so an index means a complete checkpoint even when the
    process was killed before it updated the `checkpoint` bookkeeping file.
    """
    directory = Path(directory)
    steps = []
    for index in directory.glob(f"{CHECKPOINT_NAME}-*.index"):
        tail = index.name[len(CHECKPOINT_NAME) + 1:-len(".index")]
        if tail.isdigit():
            steps.append(int(tail))
    if steps:
        return str(directory / f"{CHECKPOINT_NAME}-{max(steps)}")
    return tf.train.latest_checkpoint(str(directory))


def resolve_checkpoint(path: str | os.PathLike) -> str:
    """A checkpoint prefix from a prefix or a directory (its newest checkpoint)."""
    path = str(path)
    if os.path.isdir(path):
        latest = newest_checkpoint(path)
        if latest is None:
            raise FileNotFoundError(f"{path}: no checkpoint in this directory")
        return latest
    if not os.path.exists(path + ".index"):
        raise FileNotFoundError(f"{path}: no such checkpoint ({path}.index missing)")
    return path


def load_model_weights(model, path: str | os.PathLike) -> str:
    """Restore `model`'s weights from one of our training checkpoints; returns the prefix used.

    Optimiser slots and training state in the file are ignored.  Every model variable must be
    present with the same shape, else ValueError / AssertionError naming the checkpoint.
    """
    prefix = resolve_checkpoint(path)
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    present = {k for k in shapes if k.startswith("model/")}
    if not present:
        raise ValueError(f"{prefix}: not a NorLM BERT checkpoint (no model/ variables)")
    status = tf.train.Checkpoint(model=model).read(prefix)
    try:
        status.expect_partial().assert_existing_objects_matched()
    except AssertionError as exc:
        raise ValueError(f"{prefix}: checkpoint does not match the model: {exc}") from None
    return prefix


def read_state(path: str | os.PathLike) -> dict:
    """The `state/` values of a checkpoint (step, loss scale, input position, ...) without a model."""
    prefix = resolve_checkpoint(path)
    reader = tf.train.load_checkpoint(prefix)
    out = {}
    for key in reader.get_variable_to_shape_map():
        if key.startswith("state/") and key.endswith("/.ATTRIBUTES/VARIABLE_VALUE"):
            name = key[len("state/"):-len("/.ATTRIBUTES/VARIABLE_VALUE")]
            value = reader.get_tensor(key)
            out[name] = value.item() if hasattr(value, "item") else value
    return out


class CheckpointKeeper:
    """Save every N steps / at the end / on a signal, keep the last K, resume from the newest."""

    def __init__(self, directory: str | os.PathLike, model, optimizer, state: TrainState, keep: int = 5):
        self.directory = Path(directory)
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, state=state)
        self.state = state
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory), max_to_keep=keep,
                                                  checkpoint_name=CHECKPOINT_NAME)

    @property
    def latest(self) -> str | None:
        return newest_checkpoint(self.directory) if self.directory.is_dir() else None

    def save(self) -> str:
        step = int(self.state.global_step.numpy())
        if self.latest and self.latest.endswith(f"-{step}"):
            return self.latest  # this step is already on disk (e.g. signal right after a periodic save)
        try:
            return self.manager.save(checkpoint_number=step)
        except Exception as exc:  # e.g. a full disk: drop the half-written save, keep the older ones
            self._discard_partial(step, exc)
            raise

    def _discard_partial(self, step: int, exc: Exception) -> None:
        """Remove what a failed save left (`model.ckpt-N_temp/`, `model.ckpt-N.*`), noting its size."""
        import shutil

        from norlm.diskspace import note_partial

        prefix = self.directory / f"{CHECKPOINT_NAME}-{step}"
        for path in [Path(f"{prefix}_temp"), *self.directory.glob(f"{CHECKPOINT_NAME}-{step}.*")]:
            note_partial(exc, path)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def restore(self, prefix: str) -> None:
        self.checkpoint.read(prefix).assert_existing_objects_matched()
