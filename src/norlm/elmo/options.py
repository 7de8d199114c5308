"""The bilm-tf `options.json` dict: built from our [elmo] config, read back for export and inference."""
from __future__ import annotations

import json
import os
from typing import Any

from norlm.elmo.chars import N_INFER_CHARS, N_TRAIN_CHARS


def options_from_config(ec: Any, n_tokens_vocab: int, n_train_tokens: int, n_workers: int = 1) -> dict:
    """Full training options in bilm-tf's layout (n_characters 261, as bilm-tf writes at train time)."""
    lstm: dict[str, Any] = {
        "dim": ec.lstm_dim, "projection_dim": ec.projection_dim, "n_layers": ec.n_layers,
        "use_skip_connections": ec.use_skip_connections,
    }
    if ec.cell_clip > 0:
        lstm["cell_clip"] = ec.cell_clip
    if ec.proj_clip > 0:
        lstm["proj_clip"] = ec.proj_clip
    return {
        "bidirectional": True,
        "char_cnn": {
            "activation": ec.activation,
            "embedding": {"dim": ec.char_dim},
            "filters": [list(f) for f in ec.filters],
            "max_characters_per_token": ec.max_characters_per_token,
            "n_characters": N_TRAIN_CHARS,
            "n_highway": ec.n_highway,
        },
        "dropout": ec.dropout,
        "lstm": lstm,
        "all_clip_norm_val": ec.clip_norm,
        "n_epochs": ec.n_epochs,
        "n_train_tokens": n_train_tokens,
        "batch_size": ec.batch_size,
        "n_gpus": n_workers,
        "n_tokens_vocab": n_tokens_vocab,
        "unroll_steps": ec.unroll_steps,
        "n_negative_samples_batch": ec.n_negative_samples,
        "learning_rate": ec.learning_rate,
        "sample_softmax": True,
    }


def for_inference(options: dict) -> dict:
    """A copy with `n_characters` 262, what simple_elmo and bilm-tf require for prediction."""
    out = json.loads(json.dumps(options))
    out["char_cnn"]["n_characters"] = N_INFER_CHARS
    return out


def check_options(options: dict, where: str = "options.json") -> None:
    """Fail early, naming the key, on options a loader would reject."""
    for path in ("char_cnn.filters", "char_cnn.embedding.dim", "char_cnn.max_characters_per_token",
                 "char_cnn.activation", "lstm.dim", "lstm.projection_dim", "lstm.n_layers",
                 "lstm.use_skip_connections"):
        node: Any = options
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ValueError(f"{where}: missing key '{path}'")
            node = node[part]
    if options["char_cnn"]["activation"] not in ("relu", "tanh"):
        raise ValueError(f"{where}: char_cnn.activation must be relu or tanh, "
                         f"got {options['char_cnn']['activation']!r}")
    nf = sum(n for _, n in options["char_cnn"]["filters"])
    if nf < options["lstm"]["projection_dim"]:
        raise ValueError(f"{where}: the char CNN has {nf} filters, fewer than lstm.projection_dim "
                         f"{options['lstm']['projection_dim']} (loaders need n_filters >= projection_dim)")
    if not 1 <= options["lstm"]["n_layers"] <= 8:
        raise ValueError(f"{where}: lstm.n_layers must be 1..8 (the loaders' name table), "
                         f"got {options['lstm']['n_layers']}")


def read_options(path: str | os.PathLike) -> dict:
    with open(path, encoding="utf-8") as fh:
        options = json.load(fh)
    check_options(options, str(path))
    return options
