"""The two names of every BERT weight: TF1 (bert-recipe §2.8) and Hugging Face `BertForPreTraining`.

Exports and imports both go through this one table, so a weight can never land on the wrong
parameter.  TF1 dense kernels are `[in, out]` and Hugging Face `nn.Linear` weights are `[out, in]`,
so kernels are transposed; `cls/seq_relationship/output_weights` is already `[2, H]` and is not.
The MLM decoder matrix is tied to the word embeddings in both worlds, so it has no TF1 name.
"""
from __future__ import annotations

import numpy as np

# Hugging Face state-dict keys that carry no weight of their own (buffers and tied copies).
HF_DERIVED_KEYS = (
    "bert.embeddings.position_ids",
    "cls.predictions.decoder.weight",  # tied to bert.embeddings.word_embeddings.weight
    "cls.predictions.decoder.bias",  # tied to cls.predictions.bias
)

# Old (pre-2019 pytorch-pretrained-bert) LayerNorm parameter names still found in published files.
_OLD_SUFFIXES = {".gamma": ".weight", ".beta": ".bias"}

_LAYER_PARTS = (
    # (TF1 path inside layer_<i>, HF path inside layer.<i>)
    ("attention/self/query", "attention.self.query"),
    ("attention/self/key", "attention.self.key"),
    ("attention/self/value", "attention.self.value"),
    ("attention/output/dense", "attention.output.dense"),
    ("intermediate/dense", "intermediate.dense"),
    ("output/dense", "output.dense"),
)
_LAYER_NORMS = (
    ("attention/output/LayerNorm", "attention.output.LayerNorm"),
    ("output/LayerNorm", "output.LayerNorm"),
)


def name_table(num_layers: int) -> list[tuple[str, str, bool]]:
    """(TF1 name, HF key, transpose?) for every weight of a `num_layers` BERT with both heads."""
    rows: list[tuple[str, str, bool]] = []
    for table in ("word_embeddings", "token_type_embeddings", "position_embeddings"):
        rows.append((f"bert/embeddings/{table}", f"bert.embeddings.{table}.weight", False))
    rows += _layer_norm("bert/embeddings/LayerNorm", "bert.embeddings.LayerNorm")
    for i in range(num_layers):
        tf_layer, hf_layer = f"bert/encoder/layer_{i}", f"bert.encoder.layer.{i}"
        for tf_part, hf_part in _LAYER_PARTS:
            rows += _dense(f"{tf_layer}/{tf_part}", f"{hf_layer}.{hf_part}")
        for tf_part, hf_part in _LAYER_NORMS:
            rows += _layer_norm(f"{tf_layer}/{tf_part}", f"{hf_layer}.{hf_part}")
    rows += _dense("bert/pooler/dense", "bert.pooler.dense")
    rows += _dense("cls/predictions/transform/dense", "cls.predictions.transform.dense")
    rows += _layer_norm("cls/predictions/transform/LayerNorm", "cls.predictions.transform.LayerNorm")
    rows.append(("cls/predictions/output_bias", "cls.predictions.bias", False))
    rows.append(("cls/seq_relationship/output_weights", "cls.seq_relationship.weight", False))
    rows.append(("cls/seq_relationship/output_bias", "cls.seq_relationship.bias", False))
    return rows


def _dense(tf_prefix: str, hf_prefix: str) -> list[tuple[str, str, bool]]:
    return [(f"{tf_prefix}/kernel", f"{hf_prefix}.weight", True), (f"{tf_prefix}/bias", f"{hf_prefix}.bias", False)]


def _layer_norm(tf_prefix: str, hf_prefix: str) -> list[tuple[str, str, bool]]:
    return [(f"{tf_prefix}/gamma", f"{hf_prefix}.weight", False), (f"{tf_prefix}/beta", f"{hf_prefix}.bias", False)]


def tf1_names(num_layers: int) -> list[str]:
    """The §2.8 trainable-variable name set (16 per layer + 14 others)."""
    return [tf for tf, _, _ in name_table(num_layers)]


def tf1_to_hf(arrays: dict[str, np.ndarray], num_layers: int) -> dict[str, np.ndarray]:
    """TF1-named arrays -> `BertForPreTraining` state dict (float32, C-contiguous, kernels transposed)."""
    table = name_table(num_layers)
    missing = [tf for tf, _, _ in table if tf not in arrays]
    if missing:
        raise KeyError(f"{len(missing)} TF1 weights missing, e.g. {missing[:3]}")
    extra = sorted(set(arrays) - {tf for tf, _, _ in table})
    if extra:
        raise KeyError(f"{len(extra)} unexpected TF1 names for a {num_layers}-layer BERT, e.g. {extra[:3]}")
    out = {}
    for tf_name, hf_key, transpose in table:
        value = np.asarray(arrays[tf_name], dtype=np.float32)
        out[hf_key] = np.ascontiguousarray(value.T if transpose else value)
    return out


def normalise_hf_key(key: str) -> str:
    """Map legacy spellings onto the current `BertForPreTraining` key (`LayerNorm.gamma`, no `bert.` prefix)."""
    for old, new in _OLD_SUFFIXES.items():
        if key.endswith(old):
            key = key[: -len(old)] + new
    if key.startswith(("embeddings.", "encoder.", "pooler.")):
        key = "bert." + key
    return key


def hf_to_tf1(state: dict[str, np.ndarray], num_layers: int) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """`BertForPreTraining` / `BertForMaskedLM` / `BertModel` state dict -> TF1-named arrays.

    Returns (arrays, missing TF1 names, unused HF keys).  Tied copies and buffers are not "unused".
    """
    by_hf = {normalise_hf_key(k): v for k, v in state.items()}
    arrays: dict[str, np.ndarray] = {}
    missing: list[str] = []
    used = set(HF_DERIVED_KEYS)
    for tf_name, hf_key, transpose in name_table(num_layers):
        if hf_key not in by_hf:
            missing.append(tf_name)
            continue
        value = np.asarray(by_hf[hf_key], dtype=np.float32)
        arrays[tf_name] = np.ascontiguousarray(value.T if transpose else value)
        used.add(hf_key)
    unused = sorted(k for k in by_hf if k not in used)
    return arrays, missing, unused
