"""Import a local Hugging Face BERT folder (mBERT, NB-BERT, NorBERT, our own export) into NorLM.

`norlm bert-import HF_DIR [--out DIR]` reads `config.json`, the weights (`model.safetensors`, or
`pytorch_model.bin` through torch, sharded or not) and the vocabulary, checks that they agree, and
writes one of our checkpoints (`model.ckpt-0` with the `model/` weights that
`norlm.bert.train.checkpoint.load_model_weights` restores) plus `bert_config.json`, `vocab.txt`,
`tokenizer.json` and `import.json` (what was filled in or left out).  Nothing is downloaded: the
folder must already be on disk.

Activation: the original TensorFlow BERT code (Google's, NVIDIA's, NorBERT's) trained with the tanh
GELU; Hugging Face configs converted from it say `gelu` (exact erf) anyway.  Our model computes the
tanh GELU for both names, which is what these models were trained with.

Heads: a `BertModel` or `BertForMaskedLM` file lacks the pooler and/or pretraining heads.  Those
weights get BERT's initial values (seeded), are listed in `import.json`, and only matter for NSP
and MLM logits, never for the encoder outputs that evaluation uses.
"""
from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from norlm.bert.interop.hf_files import HF_TANH_GELUS, HFFolderError, read_hf_config, read_hf_state, \
    tokenizer_json_vocab_size
from norlm.bert.interop.hf_names import hf_to_tf1

log = logging.getLogger("norlm.bert.interop.import_hf")

# weights that a BERT without pretraining heads legitimately lacks
_HEAD_PREFIXES = ("bert/pooler/", "cls/")
_HF_ACTS = {**{name: "gelu" for name in HF_TANH_GELUS}, "gelu": "gelu", "relu": "relu", "tanh": "tanh"}


@dataclass
class ImportResult:
    """What `read_hf_bert_detailed` found in a folder."""

    config: object  # norlm.bert.model.BertConfig
    arrays: dict[str, np.ndarray]
    weights_file: str
    filled: list[str] = field(default_factory=list)  # TF1 names given initial values (absent in the file)
    unused: list[str] = field(default_factory=list)  # HF keys that map to nothing in BertForPreTraining
    notes: list[str] = field(default_factory=list)


def _bert_config(hf: dict, path: Path):
    from norlm.bert.model import BertConfig

    act = hf.get("hidden_act", "gelu")
    if act not in _HF_ACTS:
        raise HFFolderError(f"{path}: hidden_act {act!r} is not supported (known: {', '.join(_HF_ACTS)})")
    if hf.get("position_embedding_type", "absolute") != "absolute":
        raise HFFolderError(f"{path}: position_embedding_type {hf['position_embedding_type']!r}; only absolute "
                            "position embeddings are supported")
    try:
        return BertConfig.from_dict({**hf, "hidden_act": _HF_ACTS[act]}, str(path))
    except (TypeError, ValueError) as exc:
        raise HFFolderError(str(exc)) from None


def _vocab_size_on_disk(hf_dir: Path) -> tuple[int, str]:
    """Number of vocabulary entries and the file they came from (vocab.txt, else tokenizer.json)."""
    from norlm.vocab.vocab_file import vocab_size

    vocab_txt, tok_json = hf_dir / "vocab.txt", hf_dir / "tokenizer.json"
    if vocab_txt.is_file():
        try:
            return vocab_size(vocab_txt), str(vocab_txt)
        except ValueError as exc:
            raise HFFolderError(str(exc)) from None
    if tok_json.is_file():
        return tokenizer_json_vocab_size(tok_json), str(tok_json)
    raise HFFolderError(f"{hf_dir}: no vocab.txt or tokenizer.json, so the model's token ids cannot be used")


def _initial_values(names: list[str], shapes: dict, stddev: float, seed: int) -> dict[str, np.ndarray]:
    """BERT's initialisation for weights missing from a file: truncated normal (2 sigma), ones, zeros."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in names:
        shape, leaf = shapes[name], name.rsplit("/", 1)[-1]
        if leaf == "gamma":
            out[name] = np.ones(shape, np.float32)
        elif leaf in ("beta", "bias", "output_bias"):
            out[name] = np.zeros(shape, np.float32)
        else:
            value = rng.standard_normal(shape)
            bad = np.abs(value) > 2.0
            while bad.any():  # redraw outside 2 sigma, as a truncated normal does
                value[bad] = rng.standard_normal(int(bad.sum()))
                bad = np.abs(value) > 2.0
            out[name] = (value * stddev).astype(np.float32)
    return out


def read_hf_bert_detailed(hf_dir: str | Path, seed: int = 0) -> ImportResult:
    """Read and check a local Hugging Face BERT folder; see `read_hf_bert`."""
    from norlm.bert.model import variable_shapes

    hf_dir = Path(hf_dir)
    if not hf_dir.is_dir():
        raise HFFolderError(f"{hf_dir}: not a directory")
    hf = read_hf_config(hf_dir)
    config_path = hf_dir / "config.json"
    config = _bert_config(hf, config_path)
    notes = []
    if hf.get("hidden_act", "gelu") == "gelu":
        notes.append("config says hidden_act 'gelu' (erf); computed with the tanh GELU the original BERT code "
                     "trained with")
    eps = float(hf.get("layer_norm_eps", 1e-12))
    if eps != 1e-12:
        notes.append(f"config layer_norm_eps {eps} differs from our 1e-12")

    n_vocab, vocab_src = _vocab_size_on_disk(hf_dir)
    if n_vocab != config.vocab_size:
        raise HFFolderError(f"{vocab_src}: {n_vocab} vocabulary entries but {config_path} says vocab_size "
                            f"{config.vocab_size}; token ids would not match the embedding rows")

    state, weights_file = read_hf_state(hf_dir)
    arrays, missing, unused = hf_to_tf1(state, config.num_hidden_layers)
    shapes = variable_shapes(config)
    for name, value in arrays.items():
        if tuple(value.shape) != tuple(shapes[name]):
            raise HFFolderError(f"{weights_file}: {name} has shape {tuple(value.shape)}, but {config_path} "
                                f"implies {tuple(shapes[name])}")
    essential = [n for n in missing if not n.startswith(_HEAD_PREFIXES)]
    if essential:
        raise HFFolderError(f"{weights_file}: {len(essential)} encoder weights are missing (e.g. {essential[0]}); "
                            "is this a BERT checkpoint?")
    decoder = state.get("cls.predictions.decoder.weight")
    if decoder is not None and not np.array_equal(np.asarray(decoder, np.float32),
                                                  arrays["bert/embeddings/word_embeddings"]):
        notes.append("cls.predictions.decoder.weight differs from the word embeddings; our MLM decoder is tied "
                     "to the word embeddings")
    if "cls/predictions/output_bias" in missing and "cls.predictions.decoder.bias" in state:
        arrays["cls/predictions/output_bias"] = np.asarray(state["cls.predictions.decoder.bias"], np.float32)
        missing.remove("cls/predictions/output_bias")
    arrays.update(_initial_values(missing, shapes, config.initializer_range, seed))
    if missing:
        notes.append(f"{len(missing)} head weights absent from the file were initialised: "
                     + ", ".join(sorted({n.rsplit('/', 1)[0] for n in missing})))
    if unused:
        notes.append(f"{len(unused)} weights not used by BERT pretraining: {', '.join(unused[:5])}"
                     + (" ..." if len(unused) > 5 else ""))
    return ImportResult(config, arrays, str(weights_file), sorted(missing), unused, notes)


def read_hf_bert(hf_dir: str | Path):
    """A local Hugging Face BERT folder as (BertConfig, TF1-named float32 arrays), checked.

    Refuses (HFFolderError naming the file) a folder that is not BERT, whose vocabulary size disagrees
    with its config, or whose weights do not fit the config.  Missing pretraining heads are initialised
    and reported as warnings.
    """
    result = read_hf_bert_detailed(hf_dir)
    for note in result.notes:
        log.warning("%s: %s", hf_dir, note)
    return result.config, result.arrays


def assign_weights(model, arrays: dict[str, np.ndarray]) -> None:
    """Copy TF1-named arrays into a `BertPretrainingModel`; names and shapes must match exactly."""
    variables = model.variables_by_name()
    missing = sorted(set(variables) - set(arrays))
    extra = sorted(set(arrays) - set(variables))
    if missing or extra:
        raise ValueError(f"weights do not match the model: {len(missing)} missing (e.g. {missing[:2]}), "
                         f"{len(extra)} unexpected (e.g. {extra[:2]})")
    for name, var in variables.items():
        value = np.asarray(arrays[name], np.float32)
        if tuple(value.shape) != tuple(var.shape):
            raise ValueError(f"{name}: array shape {tuple(value.shape)} != model shape {tuple(var.shape)}")
        var.assign(value)


def model_from_hf(hf_dir: str | Path):
    """A ready `BertPretrainingModel` with the weights of a local Hugging Face BERT folder."""
    from norlm.bert.model import BertPretrainingModel

    config, arrays = read_hf_bert(hf_dir)
    model = BertPretrainingModel(config)
    assign_weights(model, arrays)
    return model


# --------------------------------------------------------------------------- the CLI stage

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hf_dir", metavar="HF_DIR", help="a local Hugging Face BERT folder (config.json, "
                        "model.safetensors or pytorch_model.bin, vocab.txt and/or tokenizer.json)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="output folder (default: WORK/bert/import/<name of HF_DIR>)")


def _write_tokenizer(hf_dir: Path, out: Path) -> dict:
    """vocab.txt as is; tokenizer.json = our BERT tokenizer with the folder's casing settings."""
    import json
    import shutil

    from tokenizers import normalizers

    from norlm.files import atomic_open, atomic_path
    from norlm.vocab.tokenizer import build_tokenizer

    settings = {"do_lower_case": True, "strip_accents": None}  # transformers' BertTokenizer defaults
    tok_cfg = hf_dir / "tokenizer_config.json"
    if tok_cfg.is_file():
        with open(tok_cfg, encoding="utf-8") as fh:
            data = json.load(fh)
        settings.update({k: data[k] for k in settings if k in data})
    if not (hf_dir / "vocab.txt").is_file():
        with atomic_path(out / "tokenizer.json") as tmp:
            shutil.copyfile(hf_dir / "tokenizer.json", tmp)
        return {**settings, "tokenizer": "copied tokenizer.json (no vocab.txt)"}
    with atomic_path(out / "vocab.txt") as tmp:
        shutil.copyfile(hf_dir / "vocab.txt", tmp)
    tok = build_tokenizer(hf_dir / "vocab.txt")
    lower = bool(settings["do_lower_case"])
    strip = lower if settings["strip_accents"] is None else bool(settings["strip_accents"])
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=strip,
                                                lowercase=lower)
    with atomic_open(out / "tokenizer.json") as fh:
        fh.write(tok.to_str(pretty=True))
    return {**settings, "tokenizer": "built from vocab.txt"}


def write_checkpoint(model, out_dir: Path, step: int = 0) -> str:
    """Save the model's weights the way our trainer does (`model/...` in a `tf.train.Checkpoint`)."""
    import tensorflow as tf

    from norlm.bert.train.checkpoint import CHECKPOINT_NAME

    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), str(out_dir), max_to_keep=1,
                                         checkpoint_name=CHECKPOINT_NAME)
    return manager.save(checkpoint_number=step)


def main(args: argparse.Namespace, cfg) -> int:
    from norlm.bert.model import BertPretrainingModel
    from norlm.bert.interop.tf1_checkpoint import replace_dir
    from norlm.errors import StageError, warn
    from norlm.files import sha256_file, write_json, write_run_record
    from norlm.layout import layout_of

    hf_dir = Path(args.hf_dir)
    out = Path(args.out) if args.out else layout_of(cfg).bert_import(hf_dir.resolve().name)
    result = read_hf_bert_detailed(hf_dir, seed=cfg.run.seed)
    for note in result.notes:
        warn(note)
    model = BertPretrainingModel(result.config)
    assign_weights(model, result.arrays)

    def fill(tmp: Path) -> None:
        prefix = write_checkpoint(model, tmp)
        write_json(tmp / "bert_config.json", result.config.to_json_dict())
        tokenizer = _write_tokenizer(hf_dir, tmp)
        write_json(tmp / "import.json", {
            "source": str(hf_dir.resolve()), "weights_file": result.weights_file,
            "weights_sha256": sha256_file(result.weights_file), "checkpoint": Path(prefix).name,
            "filled_with_initial_values": result.filled, "unused_hf_weights": result.unused,
            "notes": result.notes, "tokenizer": tokenizer})
        write_run_record(tmp, cfg, "bert-import", source=str(hf_dir.resolve()))

    try:
        replace_dir(out, fill, marker="import.json")
    except FileExistsError as exc:
        raise StageError(str(exc)) from None
    print(f"norlm bert-import: {hf_dir} -> {out} ({len(result.arrays)} weights, "
          f"{len(result.filled)} initialised, {len(result.unused)} unused)")
    return 0
