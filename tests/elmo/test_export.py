"""elmo-export: model.hdf5 names/shapes (1- and 2-layer), options.json keys, zip, TF1 checkpoint names."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import tensorflow as tf

from norlm.elmo.export import write_hdf5
from norlm.elmo.model import ElmoModel
from norlm.elmo.options import for_inference

TINY = {"bidirectional": True, "dropout": 0.1,
        "char_cnn": {"activation": "relu", "embedding": {"dim": 4}, "filters": [[1, 8], [2, 8]],
                     "max_characters_per_token": 50, "n_characters": 261, "n_highway": 2},
        "lstm": {"dim": 16, "projection_dim": 8, "n_layers": 2, "cell_clip": 3, "proj_clip": 3,
                 "use_skip_connections": True}}


def expected_datasets(d=4, filters=((1, 8), (2, 8)), highway=2, p=8, h=16, layers=2) -> dict[str, tuple]:
    """The elmo-format spec table 5.3, written out by hand."""
    nf = sum(n for _, n in filters)
    out = {"char_embed": (261, d)}
    for i, (w, n) in enumerate(filters):
        out[f"CNN/W_cnn_{i}"] = (1, w, d, n)
        out[f"CNN/b_cnn_{i}"] = (n,)
    for k in range(highway):
        out.update({f"CNN_high_{k}/W_carry": (nf, nf), f"CNN_high_{k}/W_transform": (nf, nf),
                    f"CNN_high_{k}/b_carry": (nf,), f"CNN_high_{k}/b_transform": (nf,)})
    if nf != p:
        out.update({"CNN_proj/W_proj": (nf, p), "CNN_proj/b_proj": (p,)})
    for direction in range(2):
        for layer in range(layers):
            cell = f"RNN_{direction}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"
            out.update({f"{cell}/W_0": (2 * p, 4 * h), f"{cell}/B": (4 * h,), f"{cell}/W_P_0": (h, p)})
    return out


def write_random_export(folder: Path, n_layers: int = 2, seed: int = 0, lstm_std: float = 0.0) -> Path:
    """An export folder (options.json, vocab.txt, model.hdf5) of a random tiny model.

    `lstm_std` > 0 redraws the LSTM weights from N(0, std); 0.9 makes the clips fire (spec section 8).
    """
    options = json.loads(json.dumps(TINY))
    options["lstm"]["n_layers"] = n_layers
    model = ElmoModel(options, n_vocab=5, seed=seed)
    rng = np.random.default_rng(seed)
    for name, var in model.vars.items():
        if lstm_std > 0 and "/rnn/" in name:
            var.assign(rng.normal(0.0, lstm_std, var.shape).astype(np.float32))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "options.json").write_text(json.dumps(for_inference(options)))
    (folder / "vocab.txt").write_text("<S>\n</S>\n<UNK>\nog\ni\n")
    write_hdf5(folder / "model.hdf5", {k: v.numpy() for k, v in model.vars.items()})
    return folder


def _datasets(path: Path) -> dict[str, tuple]:
    out = {}
    with h5py.File(path, "r") as h5:
        h5.visititems(lambda n, o: out.__setitem__(n, (o.shape, o.dtype)) if isinstance(o, h5py.Dataset) else None)
    return out


def test_hdf5_names_and_shapes_two_and_one_layer(tmp_path):
    for layers in (2, 1):
        got = _datasets(write_random_export(tmp_path / f"l{layers}", n_layers=layers) / "model.hdf5")
        assert {k: s for k, (s, _) in got.items()} == expected_datasets(layers=layers)
        assert all(dt == np.float32 for _, dt in got.values())


def test_smoke_export_files(smoke_run):
    export = smoke_run / "elmo" / "export"
    options = json.loads((export / "options.json").read_text())
    assert options["char_cnn"]["n_characters"] == 262
    assert options["lstm"] == {"dim": 32, "projection_dim": 16, "n_layers": 2, "use_skip_connections": True,
                               "cell_clip": 3.0, "proj_clip": 3.0}
    assert set(options["char_cnn"]) == {"activation", "embedding", "filters", "max_characters_per_token",
                                        "n_characters", "n_highway"}
    vocab = (export / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert vocab[:3] == ["<S>", "</S>", "<UNK>"] and len(vocab) == options["n_tokens_vocab"]
    got = _datasets(export / "model.hdf5")
    assert {k: s for k, (s, _) in got.items()} == expected_datasets(
        d=4, filters=((1, 8), (2, 8), (3, 16)), highway=1, p=16, h=32, layers=2)
    with zipfile.ZipFile(export / "smoke-elmo.zip") as zf:
        assert sorted(zf.namelist()) == ["model.hdf5", "options.json", "vocab.txt"]
        assert json.loads(zf.read("options.json")) == options
    names = dict(tf.train.list_variables(str(export)))
    assert names["lm/softmax/W"] == [len(vocab), 16] and names["lm/char_embed"] == [261, 4]
    assert names["lm/RNN_1/rnn/multi_rnn_cell/cell_1/lstm_cell/projection/kernel"] == [32, 16]
    assert (export / "checkpoint").read_text().startswith('model_checkpoint_path: "model.ckpt-40"')
