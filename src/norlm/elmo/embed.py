"""Contextual ELMo vectors from an exported model with our own TensorFlow code (elmo-embed stage).

`ElmoEmbedder(export_dir).embed(sentences, layers)` reads options.json + model.hdf5 (the files
simple_elmo reads) and computes what bilm-tf computes: layer 0 = [token embedding; token
embedding], layer l = [forward LSTM l; backward LSTM l], <S>/</S> removed, zeros at padding.
Every batch starts from zero LSTM states (simple_elmo instead carries state from one batch to the
next within a session, so compare against it with warmup=False and one batch).

CLI: `norlm elmo-embed --model DIR --input sentences.txt --output vectors.npz` (one
whitespace-tokenised sentence per line).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from norlm.files import atomic_path

LAYER_CHOICES = ("average", "top", "all")


def hdf5_to_tf1(name: str, n_layers: int) -> str:
    """Inverse of export.hdf5_name: our variable name for an HDF5 dataset."""
    if not name.startswith("RNN_"):
        return "lm/" + name
    direction, _, _, cell, _, leaf = name.split("/")
    layer = int(cell[len("Cell"):])
    from norlm.elmo.model import rnn_prefix

    leaf = {"W_0": "kernel", "B": "bias", "W_P_0": "projection/kernel"}[leaf]
    return f"{rnn_prefix(int(direction[4:]), layer, n_layers)}/{leaf}"


class ElmoEmbedder:
    """Our inference over an export folder (options.json + model.hdf5) or an NLPL-style zip."""

    def __init__(self, export_dir: str | Path, batch_size: int = 64):
        import h5py
        import tensorflow as tf

        from norlm.elmo.model import ElmoModel
        from norlm.elmo.options import check_options, read_options

        self.tf = tf
        path = Path(export_dir)
        if path.suffix == ".zip":
            import io
            import json
            import zipfile

            with zipfile.ZipFile(path) as zf:
                options = json.loads(zf.read("options.json").decode("utf-8"))
                h5_source = io.BytesIO(zf.read("model.hdf5"))
            check_options(options, f"{path}:options.json")
        else:
            options = read_options(path / "options.json")
            h5_source = path / "model.hdf5"
        self.options = options
        self.max_chars = options["char_cnn"]["max_characters_per_token"]
        self.batch_size = batch_size
        self.model = ElmoModel(options, n_vocab=None)
        n_layers = self.model.n_layers
        with h5py.File(h5_source, "r") as h5:
            names = []
            h5.visit(lambda n: names.append(n) if isinstance(h5[n], h5py.Dataset) else None)
            loaded = set()
            for name in names:
                if name.startswith("softmax"):
                    continue
                var_name = hdf5_to_tf1(name, n_layers)
                if var_name not in self.model.vars:
                    raise ValueError(f"{path}: unexpected dataset {name!r} in model.hdf5")
                var = self.model.vars[var_name]
                value = h5[name][...]
                if tuple(value.shape) != tuple(var.shape):
                    raise ValueError(f"{path}: dataset {name!r} has shape {value.shape}, "
                                     f"options imply {tuple(var.shape)}")
                var.assign(value.astype(np.float32))
                loaded.add(var_name)
        missing = sorted(set(self.model.vars) - loaded)
        if missing:
            raise ValueError(f"{path}: model.hdf5 lacks {len(missing)} weight(s), e.g. {missing[0]!r}")
        spec = tf.TensorSpec([None, None, self.max_chars], tf.int32)
        self._layers_fn = tf.function(self._layers, input_signature=[spec])

    @property
    def vector_size(self) -> int:
        return 2 * self.model.proj_dim

    @property
    def n_layers(self) -> int:
        return self.model.n_layers + 1

    def _layers(self, ids):
        """(N, L, C) inference ids with <S>/</S> -> (N, n_layers+1, L-2, 2P), zeros at padding."""
        tf, model = self.tf, self.model
        mask = tf.reduce_any(ids > 0, axis=2)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        emb = model.token_embedding(ids, shifted=True)
        batch = tf.shape(ids)[0]
        fw, _ = model.stack(0, emb, model.zero_states(batch), mask=mask)
        emb_rev = tf.reverse_sequence(emb, lengths, seq_axis=1, batch_axis=0)
        bw, _ = model.stack(1, emb_rev, model.zero_states(batch), mask=mask)
        bw = [tf.reverse_sequence(o, lengths, seq_axis=1, batch_axis=0) for o in bw]
        layers = [tf.concat([emb, emb], axis=-1)] + [tf.concat([f, b], axis=-1) for f, b in zip(fw, bw)]
        out = tf.stack(layers, axis=1)[:, :, 1:-1]  # drop <S> (position 0) and the last position
        word_mask = tf.cast(mask[:, 2:], tf.float32)[:, None, :, None]  # word j is real iff j+2 < len
        return out * word_mask

    def embed(self, sentences: list[list[str]], layers: str = "average") -> np.ndarray:
        """(N, T, 2P) for "average"/"top", (N, L+1, T, 2P) for "all"; T = longest sentence; zeros at padding."""
        from norlm.elmo.chars import batch_inference_ids

        if layers not in LAYER_CHOICES:
            raise ValueError(f"layers must be one of {LAYER_CHOICES}, not {layers!r}")
        if any(len(s) == 0 for s in sentences):
            raise ValueError(f"sentence {next(i for i, s in enumerate(sentences) if not s)} is empty")
        maxlen = max((len(s) for s in sentences), default=0)
        out = np.zeros((len(sentences), self.n_layers, maxlen, self.vector_size), dtype=np.float32)
        for start in range(0, len(sentences), self.batch_size):
            chunk = sentences[start:start + self.batch_size]
            ids = batch_inference_ids(chunk, self.max_chars)
            vectors = self._layers_fn(self.tf.constant(ids)).numpy()
            out[start:start + len(chunk), :, : vectors.shape[2]] = vectors
        if layers == "all":
            return out
        if layers == "top":
            return out[:, -1]
        return out.mean(axis=1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="export folder or NLPL zip (default WORK/elmo/export)")
    parser.add_argument("--input", required=True, help="text file, one whitespace-tokenised sentence per line")
    parser.add_argument("--output", required=True, help="output .npz (vectors, lengths)")
    parser.add_argument("--layers", choices=LAYER_CHOICES, default="average", help="which layers (default average)")
    parser.add_argument("--batch-size", type=int, default=64)


def main(args: argparse.Namespace, cfg) -> int:
    from norlm.errors import StageFailure
    from norlm.layout import layout_of

    model_dir = Path(args.model) if args.model else layout_of(cfg).elmo_export
    sentences, skipped = [], 0
    with open(args.input, encoding="utf-8", errors="strict") as fh:
        for lineno, line in enumerate(fh, 1):
            words = line.split()
            if words:
                sentences.append(words)
            else:
                skipped += 1
    if not sentences:
        raise StageFailure(f"{args.input}: no sentences")
    try:
        embedder = ElmoEmbedder(model_dir, batch_size=args.batch_size)
    except (OSError, ValueError) as exc:
        raise StageFailure(str(exc)) from None
    vectors = embedder.embed(sentences, layers=args.layers)
    with atomic_path(args.output) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, vectors=vectors, lengths=np.array([len(s) for s in sentences]))
    print(f"elmo-embed: {len(sentences)} sentences ({skipped} empty lines skipped) -> {args.output} {vectors.shape}")
    return 0
