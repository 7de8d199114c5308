"""Export a trained biLM in the formats the ELMo ecosystem loads (elmo-export stage).

WORK/elmo/export/ gets: options.json (n_characters 262), vocab.txt, a TF1 name-based checkpoint
(`model.ckpt-<step>.*` + `checkpoint`, the `lm/...` names incl. the softmax, for simple_elmo
`full=True` and bilm-tf `dump_weights`), an NLPL-style zip (options.json, model.hdf5, vocab.txt at
the root) and, last, model.hdf5: bilm-tf's `dump_weights` layout (float32, no softmax,
`char_embed` 261 rows, always the `MultiRNNCell/Cell{l}` names; elmo-format spec section 5).
Before that, WORK/elmo/random/ gets the same files for the untrained twin (norlm.elmo.random_init).
"""
from __future__ import annotations

import argparse
import re
import zipfile
from pathlib import Path

import numpy as np

from norlm.diskspace import preflight
from norlm.elmo.options import for_inference
from norlm.files import atomic_open, atomic_path, write_json, write_run_record


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--train-dir", default=None, help="training folder (default WORK/elmo/train)")
    parser.add_argument("--vocab", default=None, help="vocab.txt to ship (default WORK/elmo/vocab.txt)")
    parser.add_argument("--out", default=None, help="output folder (default WORK/elmo/export)")
    parser.add_argument("--zip-name", default=None, help="name of the NLPL-style zip (default <run.name>-elmo.zip)")
    parser.add_argument("--twin-out", default=None,
                        help="folder of the untrained twin (default WORK/elmo/random): the same options with the "
                             "weights training started from, exported the same way, for the evaluation's baseline")
    parser.add_argument("--no-twin", action="store_true", help="do not write the untrained twin")
    parser.add_argument("--force", action="store_true",
                        help="export even when the disk pre-flight finds too little space")


def hdf5_name(tf1_name: str) -> str:
    """bilm-tf dump_weights renaming, except that single-layer cells also get MultiRNNCell/Cell0."""
    name = tf1_name[3:] if tf1_name.startswith("lm/") else tf1_name
    name = re.sub(r"/rnn/lstm_cell/", "/rnn/multi_rnn_cell/cell_0/lstm_cell/", name)
    name = name.replace("/rnn/", "/RNN/").replace("/multi_rnn_cell/", "/MultiRNNCell/")
    name = name.replace("/cell_", "/Cell").replace("/lstm_cell/", "/LSTMCell/")
    if "/RNN/" in name:
        name = name.replace("projection/kernel", "W_P_0").replace("/kernel", "/W_0").replace("/bias", "/B")
    return name


def write_hdf5(path: Path, weights: dict[str, np.ndarray]) -> list[str]:
    """model.hdf5 with every non-softmax weight under its dump_weights name; returns the names."""
    import h5py

    names = []
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as h5:
            for tf1_name in sorted(weights):
                if "softmax" in tf1_name:
                    continue
                name = hdf5_name(tf1_name)
                h5.create_dataset(name, data=np.asarray(weights[tf1_name], dtype=np.float32), track_times=False)
                names.append(name)
    return names


def write_tf1_checkpoint(out: Path, weights: dict[str, np.ndarray], step: int) -> str:
    """A name-based TF1 checkpoint (`Saver(var_list={name: var})`) with the lm/... training names."""
    import tensorflow as tf

    variables = {name: tf.Variable(value, name=name.replace("/", "_")) for name, value in weights.items()}
    variables["global_step"] = tf.Variable(np.int64(step), name="global_step")
    for old in out.glob("model.ckpt-*"):
        old.unlink()
    saver = tf.compat.v1.train.Saver(var_list=variables)
    prefix = saver.save(None, str(out / "model.ckpt"), global_step=step, write_state=False)
    with atomic_open(out / "checkpoint") as fh:  # relative paths, so the folder can be moved
        name = Path(prefix).name
        fh.write(f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n')
    return prefix


def write_zip(path: Path, members: dict[str, Path]) -> None:
    """NLPL-repository zip: the files at the archive root, fixed timestamps (same bytes on rerun)."""
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for arcname, src in members.items():
                info = zipfile.ZipInfo(arcname, date_time=(2021, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, src.read_bytes())


def main(args: argparse.Namespace, cfg) -> int:
    from norlm.elmo.checkpoint import read_weights
    from norlm.elmo.options import read_options
    from norlm.elmo.vocabulary import load_vocab
    from norlm.errors import StageFailure
    from norlm.layout import layout_of

    lay = layout_of(cfg)
    train_dir = Path(args.train_dir) if args.train_dir else lay.elmo_train
    vocab_path = Path(args.vocab) if args.vocab else lay.elmo_vocab
    out = Path(args.out) if args.out else lay.elmo_export
    try:
        options = read_options(train_dir / "options.json")
        weights, step = read_weights(train_dir)
        vocab = load_vocab(vocab_path)
    except (OSError, ValueError) as exc:
        raise StageFailure(str(exc)) from None
    if "lm/softmax/W" in weights and weights["lm/softmax/W"].shape[0] != len(vocab):
        raise StageFailure(f"{vocab_path} has {len(vocab)} words but the model's softmax has "
                           f"{weights['lm/softmax/W'].shape[0]} rows")
    per_set = sum(w.nbytes * (1 if "softmax" in k else 3) for k, w in weights.items())  # ckpt, hdf5, zip
    preflight(out, per_set * (1 if args.no_twin else 2), args.force,
              what=f"checkpoint, model.hdf5 and zip{'' if args.no_twin else ', twice with the untrained twin'}")
    if not args.no_twin:
        write_twin(Path(args.twin_out) if args.twin_out else lay.elmo_random_dir, cfg, options, vocab, train_dir)
    zip_name = args.zip_name or f"{cfg.run.name}-elmo.zip"
    write_export(out, cfg, "elmo-export", options, weights, step, vocab, zip_name)
    return 0


def write_export(out: Path, cfg, stage: str, options: dict, weights: dict[str, np.ndarray], step: int,
                 vocab: list[str], zip_name: str, **record) -> None:
    """Every export file of one set of weights; model.hdf5 (the completion file) last."""
    out.mkdir(parents=True, exist_ok=True)
    infer_options = for_inference(options)
    write_json(out / "options.json", infer_options)
    with atomic_open(out / "vocab.txt") as fh:
        fh.write("".join(w + "\n" for w in vocab))
    ckpt_prefix = write_tf1_checkpoint(out, weights, step)
    with atomic_path(out / "model.hdf5") as hdf5_tmp:  # the completion file, renamed into place last
        names = write_hdf5(hdf5_tmp, weights)
        write_zip(out / zip_name, {"options.json": out / "options.json", "model.hdf5": hdf5_tmp,
                                   "vocab.txt": out / "vocab.txt"})
        n_params = int(sum(np.prod(weights[k].shape) for k in weights if "softmax" not in k))
        write_run_record(out, cfg, stage, step=step, hdf5_datasets=names, parameters=n_params,
                         tf1_checkpoint=Path(ckpt_prefix).name, zip=zip_name, **record)
    print(f"{stage}: step {step}, {len(names)} datasets, {n_params:,} parameters -> {out / 'model.hdf5'}, "
          f"{out / zip_name}, {ckpt_prefix}")


def write_twin(out: Path, cfg, options: dict, vocab: list[str], train_dir: Path) -> int:
    """Export the untrained twin of the model trained in `train_dir` (same files); returns its seed."""
    from norlm.elmo.random_init import random_weights, training_seed

    seed = training_seed(train_dir, cfg.run.seed)
    weights = random_weights(options, len(vocab), seed)
    write_export(out, cfg, "elmo-export", options, weights, 0, vocab,
                 f"{cfg.run.name}-elmo-random.zip", init_seed=seed, trained=False)
    return seed
