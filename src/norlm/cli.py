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
from norlm import errors
from norlm.errors import StageError
from norlm.stages import STAGES as REGISTRY

# (name, module, one-line help) in pipeline order, from the stage registry
STAGES: list[tuple[str, str, str]] = [(s.name, s.module, s.help) for s in REGISTRY]


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
    errors.CURRENT_STAGE = name
    try:
        return int(module.main(args, cfg) or 0)
    except StageError as exc:
        print(f"norlm {name}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ConfigError as exc:
        print(f"norlm {name}: config error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a full disk or quota (ENOSPC/EDQUOT/EIO), from this process or a worker
        from norlm.diskspace import describe_space_error

        message = describe_space_error(exc)
        if message is None:
            raise
        print(f"norlm {name}: error: {message}", file=sys.stderr)
        return errors.EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
