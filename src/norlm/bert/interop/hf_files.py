"""Reading and writing the files of a Hugging Face BERT folder without importing `transformers`.

Weights go through the `safetensors` numpy API (or torch for legacy `pytorch_model.bin`), the
config and tokenizer settings are plain JSON.  Every write is atomic.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from norlm.errors import StageError
from norlm.files import atomic_path, read_json, write_json


class HFFolderError(StageError, ValueError):
    """A Hugging Face folder that cannot be used; the message names the file."""


SPECIAL_TOKENS = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                  "mask_token": "[MASK]"}

# our activation names (TF1 BERT meaning) -> Hugging Face ACT2FN names.  TF1 BERT's "gelu" is the
# tanh approximation, which Hugging Face calls "gelu_new"; HF's own "gelu" is the exact erf form.
ACT_TO_HF = {"gelu": "gelu_new", "gelu_new": "gelu_new", "relu": "relu", "tanh": "tanh", "swish": "silu",
             "silu": "silu", "linear": "linear"}
HF_TANH_GELUS = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")


# --------------------------------------------------------------------------- weights

def write_safetensors(state: dict[str, np.ndarray], path: str | Path) -> None:
    """Write a state dict as safetensors with the metadata `transformers` checks (`format: pt`)."""
    from safetensors.numpy import save_file

    with atomic_path(path) as tmp:
        save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(tmp), metadata={"format": "pt"})


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), "np") as fh:
            dtypes = {fh.get_slice(k).get_dtype() for k in fh.keys()}
        if "BF16" not in dtypes:
            from safetensors.numpy import load_file

            return load_file(str(path))
        # numpy has no bfloat16: go through torch and widen to float32
        from safetensors.torch import load_file as load_torch

        return {k: v.float().numpy() for k, v in load_torch(str(path)).items()}
    except Exception as exc:  # the library raises its own error types for corrupt headers
        raise HFFolderError(f"{path}: not a readable safetensors file ({exc})") from None


def _read_torch_bin(path: Path) -> dict[str, np.ndarray]:
    import torch

    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise HFFolderError(f"{path}: not a readable PyTorch state dict ({exc})") from None
    if not isinstance(state, dict):
        raise HFFolderError(f"{path}: expected a state dict, found {type(state).__name__}")
    return {k: v.detach().to(torch.float32).numpy() for k, v in state.items() if hasattr(v, "detach")}


def _read_sharded(index_path: Path, reader) -> dict[str, np.ndarray]:
    try:
        weight_map = read_json(index_path)["weight_map"]
    except (KeyError, json.JSONDecodeError) as exc:
        raise HFFolderError(f"{index_path}: not a shard index ({exc})") from None
    state: dict[str, np.ndarray] = {}
    for shard in sorted(set(weight_map.values())):
        state.update(reader(index_path.parent / shard))
    return state


def read_hf_state(hf_dir: str | Path) -> tuple[dict[str, np.ndarray], Path]:
    """The weights of a local HF folder (safetensors preferred, then `pytorch_model.bin`), and their file."""
    hf_dir = Path(hf_dir)
    candidates = [
        ("model.safetensors", _read_safetensors),
        ("model.safetensors.index.json", lambda p: _read_sharded(p, _read_safetensors)),
        ("pytorch_model.bin", _read_torch_bin),
        ("pytorch_model.bin.index.json", lambda p: _read_sharded(p, _read_torch_bin)),
    ]
    for name, reader in candidates:
        path = hf_dir / name
        if path.is_file():
            return reader(path), path
    others = sorted(p.name for p in hf_dir.glob("*") if p.suffix in (".h5", ".msgpack", ".ckpt", ".index"))
    hint = f" (found only {', '.join(others)}, which are not supported)" if others else ""
    raise HFFolderError(f"{hf_dir}: no model.safetensors or pytorch_model.bin{hint}")


# --------------------------------------------------------------------------- config

def read_hf_config(hf_dir: str | Path) -> dict:
    """`config.json` of a BERT folder; anything that is not `model_type: bert` is refused."""
    path = Path(hf_dir) / "config.json"
    if not path.is_file():
        raise HFFolderError(f"{hf_dir}: no config.json, so this is not a Hugging Face model folder")
    try:
        config = read_json(path)
    except json.JSONDecodeError as exc:
        raise HFFolderError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    model_type = config.get("model_type")
    if model_type != "bert":
        raise HFFolderError(f"{path}: model_type is {model_type!r}, not 'bert'; only BERT models can be imported")
    return config


def hf_config_dict(bert: dict, extra: dict | None = None) -> dict:
    """Our `bert_config.json` keys -> a `transformers` `config.json` for `BertForPreTraining`."""
    act = bert["hidden_act"]
    if act not in ACT_TO_HF:
        raise ValueError(f"activation {act!r} has no Hugging Face equivalent (known: {', '.join(ACT_TO_HF)})")
    config = {
        "architectures": ["BertForPreTraining"],
        "model_type": "bert",
        "vocab_size": bert["vocab_size"],
        "hidden_size": bert["hidden_size"],
        "num_hidden_layers": bert["num_hidden_layers"],
        "num_attention_heads": bert["num_attention_heads"],
        "intermediate_size": bert["intermediate_size"],
        "hidden_act": ACT_TO_HF[act],
        "hidden_dropout_prob": bert["hidden_dropout_prob"],
        "attention_probs_dropout_prob": bert["attention_probs_dropout_prob"],
        "max_position_embeddings": bert["max_position_embeddings"],
        "type_vocab_size": bert["type_vocab_size"],
        "initializer_range": bert["initializer_range"],
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "tie_word_embeddings": True,
        "dtype": "float32",
    }
    config.update(extra or {})
    return config


# --------------------------------------------------------------------------- vocabulary and tokenizer

def vocab_lines(path: str | Path) -> list[str]:
    """The entries of a WordPiece vocab.txt, one per line, as every BERT reader numbers them."""
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def tokenizer_json_vocab_size(path: str | Path) -> int:
    """1 + the largest id of a tokenizer.json WordPiece vocabulary (ids may have gaps after duplicates)."""
    data = read_json(path)
    vocab = data.get("model", {}).get("vocab")
    if not isinstance(vocab, dict) or not vocab:
        raise HFFolderError(f"{path}: no WordPiece vocabulary in model.vocab")
    return max(vocab.values()) + 1


def write_tokenizer_files(out_dir: Path, vocab_txt: Path, tokenizer_json: Path | None, model_max_length: int) -> None:
    """vocab.txt and tokenizer.json copied byte for byte, plus the cased settings `transformers` reads.

    Without a tokenizer.json, our cased BERT tokenizer is built from vocab.txt.
    """
    with atomic_path(out_dir / "vocab.txt") as tmp:
        shutil.copyfile(vocab_txt, tmp)
    with atomic_path(out_dir / "tokenizer.json") as tmp:
        if tokenizer_json is not None:
            shutil.copyfile(tokenizer_json, tmp)
        else:
            from norlm.vocab.tokenizer import build_tokenizer

            build_tokenizer(vocab_txt).save(str(tmp))
    write_json(out_dir / "tokenizer_config.json", {
        "tokenizer_class": "BertTokenizer",  # transformers 5 name; 4.x maps it to BertTokenizerFast
        "do_lower_case": False,
        "strip_accents": False,
        "tokenize_chinese_chars": True,
        "model_max_length": model_max_length,
        **SPECIAL_TOKENS,
    })
    write_json(out_dir / "special_tokens_map.json", SPECIAL_TOKENS)
