"""A TF1 name-based checkpoint (`model.ckpt-N.{index,data-*}`) holding only BERT's model variables.

This is the format Google's/NVIDIA's BERT code writes and Hugging Face's original-checkpoint
converter reads (bert-recipe §5.1–5.2): variable names are the §2.8 names, with no optimiser slots,
accumulation buffers, loss-scale variables or `global_step`, because the converter walks every
name it finds and crashes or silently overwrites weights on the extra ones.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


def write_tf1_checkpoint(arrays: dict[str, np.ndarray], out_dir: str | Path, step: int) -> Path:
    """Save `arrays` (TF1 name -> value) as `out_dir/model.ckpt-<step>`; returns the checkpoint prefix."""
    import tensorflow as tf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    variables = {name: tf.Variable(np.asarray(value), trainable=False) for name, value in arrays.items()}
    # a dict var_list gives each variable exactly its key as checkpoint name, and works in eager mode;
    # the Saver's deprecation warning is about name clashes that a dict cannot have
    tf_log = logging.getLogger("tensorflow")
    level = tf_log.level
    tf_log.setLevel(logging.ERROR)
    try:
        saver = tf.compat.v1.train.Saver(var_list=variables, save_relative_paths=True, max_to_keep=1)
    finally:
        tf_log.setLevel(level)
    prefix = saver.save(None, str(out_dir / "model.ckpt"), global_step=int(step), write_meta_graph=False,
                        write_state=True)
    return Path(prefix)


def read_tf1_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """Every variable of a name-based checkpoint (a prefix, or a folder with a `checkpoint` file)."""
    import tensorflow as tf

    path = str(path)
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is None:
            raise FileNotFoundError(f"{path}: no TF checkpoint here (no 'checkpoint' state file)")
        path = latest
    reader = tf.train.load_checkpoint(path)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def replace_dir(final: str | Path, fill, marker: str) -> Path:
    """Build a folder in a temporary sibling with `fill(tmp_dir)`, then swap it in for `final`.

    An interrupted export therefore never leaves a half-written folder under the final name.  An
    existing non-empty `final` is replaced only if it holds `marker` (i.e. we wrote it before), so a
    mistyped output path can never wipe an unrelated folder.
    """
    final = Path(final)
    if final.exists() and any(final.iterdir()) and not (final / marker).exists():
        raise FileExistsError(f"{final}: exists and was not written by this command (no {marker}); "
                              "choose another output folder or remove it")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a published model folder must be readable
    old = None
    try:
        fill(tmp)
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
            os.replace(final, old / final.name)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
        if old is not None:
            shutil.rmtree(old)
    return final
