"""Export a trained BERT checkpoint for the ecosystem: a Hugging Face folder and a TF1 checkpoint.

`norlm bert-export` takes the newest checkpoint of WORK/bert/phase2 (else phase1) and writes

* WORK/bert/export/hf/: config.json (model_type bert, hidden_act gelu_new = the tanh GELU we trained
  with, layer_norm_eps 1e-12), `BertForPreTraining` weights with both heads in model.safetensors,
  vocab.txt, tokenizer.json, tokenizer_config.json (cased, accents kept), special_tokens_map.json
  and a README.md model card;
* WORK/bert/export/tf1/: model.ckpt-<step> with only the original BERT variable names (no optimiser
  slots, no training state), bert_config.json and vocab.txt, which Hugging Face's
  original-checkpoint converter (`load_tf_weights_in_bert`, transformers <= 4.57) reads.

hf/model.safetensors is written last: Make uses it as the stage's completion file.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from norlm.errors import StageError
from norlm.diskspace import preflight
from norlm.files import atomic_open, write_json, write_run_record
from norlm.layout import Layout, layout_of, repo_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", metavar="PATH", default=None,
                        help="checkpoint prefix or folder (default: newest of WORK/bert/phase2, else phase1)")
    parser.add_argument("--bert-config", metavar="FILE", default=None,
                        help="model config JSON (default: bert_config.json next to the checkpoint, else "
                        "[bert] model_config)")
    parser.add_argument("--vocab", metavar="DIR", default=None,
                        help="folder with vocab.txt (+ tokenizer.json) (default: WORK/vocab)")
    parser.add_argument("--out", metavar="DIR", default=None, help="output folder (default: WORK/bert/export)")
    parser.add_argument("--model-name", metavar="NAME", default=None,
                        help="name in the model card (default: norbert-<run.name>)")
    parser.add_argument("--license", metavar="ID", default="cc-by-4.0",
                        help="licence id for the model card (default: %(default)s)")
    parser.add_argument("--force", action="store_true",
                        help="export even when the disk pre-flight finds too little space")


def find_checkpoint(lay: Layout) -> str:
    """Newest checkpoint of phase 2, else of phase 1."""
    from norlm.bert.train.checkpoint import resolve_checkpoint

    tried = []
    for phase in (2, 1):
        folder = lay.bert_train(phase)
        try:
            return resolve_checkpoint(folder)
        except FileNotFoundError:
            tried.append(str(folder))
    raise StageError(f"no BERT checkpoint in {' or '.join(tried)}; run `make bert-train` first")


def checkpoint_step(prefix: str) -> int:
    """The update count of a checkpoint: its training state, else the `-<step>` of its name."""
    from norlm.bert.train.checkpoint import read_state

    state = read_state(prefix)
    if "global_step" in state:
        return int(state["global_step"])
    match = re.search(r"-(\d+)$", prefix)
    return int(match.group(1)) if match else 0


def model_arrays(model) -> dict[str, np.ndarray]:
    """TF1 name -> float32 array of every model variable."""
    return {name: var.numpy().astype(np.float32) for name, var in model.variables_by_name().items()}


def write_tf1_folder(out: Path, arrays: dict[str, np.ndarray], bert_config: dict, vocab_txt: Path, step: int,
                     cfg=None) -> Path:
    """export/tf1/: name-based checkpoint + bert_config.json + vocab.txt, swapped in atomically."""
    import shutil

    from norlm.bert.interop.tf1_checkpoint import replace_dir, write_tf1_checkpoint

    def fill(tmp: Path) -> None:
        write_tf1_checkpoint(arrays, tmp, step)
        write_json(tmp / "bert_config.json", bert_config)
        shutil.copyfile(vocab_txt, tmp / "vocab.txt")
        if cfg is not None:
            write_run_record(tmp, cfg, "bert-export", step=step)

    return replace_dir(out, fill, marker="bert_config.json")


def write_hf_folder(out: Path, arrays: dict[str, np.ndarray], bert_config: dict, vocab_txt: Path,
                    tokenizer_json: Path | None, card: str | None = None, cfg=None, step: int = 0) -> Path:
    """export/hf/: config, tokenizer files, model card, then model.safetensors last."""
    from norlm import __version__
    from norlm.bert.interop.hf_files import hf_config_dict, write_safetensors, write_tokenizer_files
    from norlm.bert.interop.hf_names import tf1_to_hf

    out.mkdir(parents=True, exist_ok=True)
    # the completion file goes first, so an interrupted rerun is not mistaken for a finished export
    (out / "model.safetensors").unlink(missing_ok=True)
    state = tf1_to_hf(arrays, bert_config["num_hidden_layers"])  # checks names before anything is written
    hf_config = hf_config_dict(bert_config, {"norlm_version": __version__})
    write_json(out / "config.json", hf_config)
    write_tokenizer_files(out, vocab_txt, tokenizer_json, bert_config["max_position_embeddings"])
    if card is not None:
        with atomic_open(out / "README.md") as fh:
            fh.write(card)
    if cfg is not None:
        write_run_record(out, cfg, "bert-export", step=step)
    write_safetensors(state, out / "model.safetensors")
    return out


def main(args: argparse.Namespace, cfg) -> int:
    from norlm.bert.model import BertConfig, BertPretrainingModel
    from norlm.bert.train.checkpoint import load_model_weights, resolve_checkpoint
    from norlm.bert.interop.hf_files import hf_config_dict
    from norlm.bert.interop.model_card import render_model_card
    from norlm.vocab.vocab_file import vocab_size

    lay = layout_of(cfg)
    out = Path(args.out) if args.out else lay.bert_export
    vocab_dir = Path(args.vocab) if args.vocab else lay.vocab_dir
    vocab_txt = vocab_dir / "vocab.txt"
    try:
        prefix = resolve_checkpoint(args.checkpoint) if args.checkpoint else find_checkpoint(lay)
    except FileNotFoundError as exc:
        raise StageError(str(exc)) from None
    config_path = Path(args.bert_config) if args.bert_config else Path(prefix).parent / "bert_config.json"
    if not config_path.is_file():
        config_path = repo_path(cfg.bert.model_config)
    try:
        config = BertConfig.from_json(config_path)
        n_vocab = vocab_size(vocab_txt)
    except (OSError, ValueError) as exc:
        raise StageError(str(exc)) from None
    if n_vocab != config.vocab_size:
        raise StageError(f"{vocab_txt} has {n_vocab} entries but {config_path} says vocab_size {config.vocab_size}")

    model = BertPretrainingModel(config)
    try:
        load_model_weights(model, prefix)
    except ValueError as exc:
        raise StageError(str(exc)) from None
    step = checkpoint_step(prefix)
    arrays = model_arrays(model)
    bad = [name for name, value in arrays.items() if not np.isfinite(value).all()]
    if bad:
        raise StageError(f"{prefix}: {len(bad)} weights contain NaN/Inf (e.g. {bad[0]}); "
                         "export an earlier checkpoint with --checkpoint")
    bert_config = config.to_json_dict()
    weight_bytes = sum(a.nbytes for a in arrays.values())
    preflight(out, 2 * weight_bytes, args.force, what=f"TF1 checkpoint and safetensors of {weight_bytes / 1e6:.1f} MB")
    print(f"norlm bert-export: {prefix} (step {step}, {len(arrays)} weights) -> {out}")

    try:
        tf1 = write_tf1_folder(out / "tf1", arrays, bert_config, vocab_txt, step, cfg)
    except FileExistsError as exc:
        raise StageError(str(exc)) from None
    tokenizer_json = vocab_dir / "tokenizer.json"  # the vocab stage's; rebuilt from vocab.txt if absent

    card = render_model_card(model_name=args.model_name or f"norbert-{cfg.run.name}", lay=lay,
                             bert_config=bert_config, hf_config=hf_config_dict(bert_config), checkpoint=prefix,
                             step=step, license_id=args.license, config_file=getattr(cfg, "source", ""))
    hf = write_hf_folder(out / "hf", arrays, bert_config, vocab_txt,
                         tokenizer_json if tokenizer_json.is_file() else None, card, cfg, step)
    print(f"norlm bert-export: wrote {tf1} and {hf}")
    return 0
