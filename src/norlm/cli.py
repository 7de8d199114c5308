"""The `norlm` command: one entry point, one sub-command per pipeline stage.

Usage: ``norlm <stage> [--config configs/demo.toml] [key=value ...] [stage options]``.
Stage modules are imported only when their stage runs, so `norlm --help` stays fast and a
stage's heavy dependencies (TensorFlow, torch) are loaded only where needed.

A stage module provides ``add_arguments(parser)`` and ``main(args, cfg) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from norlm import __version__
from norlm.config import ConfigError, DEFAULT_CONFIG, is_override, load_config

# (name, module, one-line help) in pipeline order
STAGES: list[tuple[str, str, str]] = [
    ("info", "norlm.info", "print Python/TensorFlow/Horovod/MPI versions, CPUs, GPUs and the config in effect"),
    ("data", "norlm.bundle", "verify the bundled data against data/manifest.tsv, or fetch full-scale data"),
    ("corpus", "norlm.corpus.stage", "raw Wikipedia / NAK / plain / NDT text -> clean, deduplicated, segmented shards"),
    ("vocab", "norlm.vocab.stage", "train the cased WordPiece vocabulary and write its quality report"),
    ("vocab-check", "norlm.vocab.check", "check any WordPiece vocab.txt for duplicates, empty and unreachable entries"),
    ("bert-data", "norlm.bert.data_stage", "corpus shards -> NVIDIA-schema pretraining TFRecords (phase 1 or 2)"),
    ("bert-data-inspect", "norlm.bert.inspect", "count and decode the instances of a pretraining TFRecord file"),
    ("bert-train", "norlm.bert.train", "pretrain BERT (MLM+NSP, LAMB) with exact resume; phase 1 or 2"),
    ("bert-export", "norlm.bert.export", "checkpoint -> Hugging Face folder and TF1 name-based checkpoint"),
    ("bert-attention", "norlm.bert.attention", "how much each head attends to the previous / next token (bag-of-words check)"),
    ("bert-import", "norlm.bert.import_hf", "local Hugging Face BERT folder -> our checkpoint (for evaluation)"),
    ("elmo-vocab", "norlm.elmo.vocab", "word vocabulary and token counts for ELMo"),
    ("elmo-train", "norlm.elmo.train", "train the bidirectional ELMo language model with exact resume"),
    ("elmo-export", "norlm.elmo.export", "checkpoint -> bilm-tf model.hdf5 + options.json + vocab.txt (+ zip, TF1 ckpt)"),
    ("elmo-embed", "norlm.elmo.embed", "sentences -> contextual ELMo vectors with our own inference code"),
    ("evaluate", "norlm.evaluate.stage", "POS, NER and sentiment evaluation of BERT / ELMo / baseline models"),
    ("plot-log", "norlm.plots", "loss curves from DLLogger files (paper Figure 1 style)"),
    ("report", "norlm.report", "the demo report (markdown + HTML) from every stage's outputs"),
    ("sbatch", "norlm.hpc.render", "render a Slurm batch script for a stage and cluster profile"),
]


def _top_parser() -> argparse.ArgumentParser:
    width = max(len(name) for name, _, _ in STAGES)
    lines = [f"  {name:<{width}}  {text}" for name, _, text in STAGES]
    parser = argparse.ArgumentParser(
        prog="norlm",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="NorLM: build NorBERT and NorELMo from raw Norwegian text to evaluated, exported models.",
        epilog="stages (in pipeline order):\n" + "\n".join(lines)
        + "\n\nRun `norlm <stage> --help` for a stage's options. Every stage takes --config FILE "
        "(default: $NORLM_CONFIG or configs/demo.toml) and key=value overrides, e.g. "
        "`norlm bert-train --config configs/demo.toml bert.phase1.train_steps=50`.",
    )
    parser.add_argument("--version", action="version", version=f"norlm {__version__}")
    parser.add_argument("stage", nargs="?", help="the stage to run (see below)")
    return parser


def stage_parser(name: str, module, text: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"norlm {name}",
        description=(module.__doc__ or text).strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Config overrides: any number of key=value tokens, e.g. run.seed=7 or bert.learning_rate=1e-4.",
    )
    parser.add_argument("--config", default=None, metavar="FILE",
                        help=f"TOML config (a path, or a name under configs/; default $NORLM_CONFIG or {DEFAULT_CONFIG})")
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    stages = {name: (mod, text) for name, mod, text in STAGES}
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in stages:
        parser = _top_parser()
        if argv and argv[0] not in ("-h", "--help", "--version"):
            parser.print_help(sys.stderr)
            print(f"\nnorlm: unknown stage '{argv[0]}'", file=sys.stderr)
            return 2
        parser.parse_args(argv or ["--help"])
        return 0
    name, rest = argv[0], argv[1:]
    module_name, text = stages[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(f"norlm {name}: this stage is not available in this version ({module_name} missing)", file=sys.stderr)
            return 2
        raise
    overrides = [tok for tok in rest if is_override(tok)]
    options = [tok for tok in rest if not is_override(tok)]
    args = stage_parser(name, module, text).parse_args(options)
    args.overrides = overrides  # the key=value tokens, e.g. for `norlm sbatch` to pass on to the job
    try:
        cfg = load_config(args.config, overrides)
    except ConfigError as exc:
        print(f"norlm {name}: config error: {exc}", file=sys.stderr)
        return 2
    return int(module.main(args, cfg) or 0)


if __name__ == "__main__":
    sys.exit(main())
