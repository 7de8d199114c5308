"""Configs: TOML files read into frozen dataclasses, with `key=value` overrides.

One source of truth for every hyper-parameter.  Each pipeline stage owns the dataclass of its
own section (``norlm/<stage>/settings.py``); this module only knows how to read TOML into typed,
frozen objects and how to report a bad key or type with the file it came from.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from norlm.compat import tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = "configs/demo.toml"


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message names key and file."""


@dataclass(frozen=True)
class RunConfig:
    """Settings shared by every stage."""

    name: str = "demo"
    work_dir: str = ""  # default: work/<name>
    seed: int = 12345
    workers: int = 1
    data_dir: str = "data"
    # multi-worker engine (norlm.engines): auto picks Horovod under an MPI/PMI launch, tf.distribute
    # under Slurm tasks or TF_CONFIG, else one process
    engine: Literal["auto", "horovod", "tf-distribute"] = "auto"


# section name -> "module:Class"; imported lazily so light commands stay light
SECTIONS: dict[str, str] = {
    "corpus": "norlm.corpus.settings:CorpusConfig",
    "vocab": "norlm.vocab.settings:VocabConfig",
    "bert_data": "norlm.bert.data.settings:BertDataConfig",
    "bert": "norlm.bert.train.settings:BertTrainConfig",
    "elmo": "norlm.elmo.settings:ElmoConfig",
    "evaluate": "norlm.evaluate.settings:EvaluateConfig",
    "hpc": "norlm.hpc.settings:HpcConfig",
}


def _section_class(name: str) -> type:
    module_name, cls_name = SECTIONS[name].split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def _make_config_class() -> type:
    """Build the top-level Config dataclass from the section registry."""
    fields = [("run", RunConfig, field(default_factory=RunConfig))]
    for name in SECTIONS:
        cls = _section_class(name)
        fields.append((name, cls, field(default_factory=cls)))
    fields.append(("source", str, field(default="", compare=False)))
    return dataclasses.make_dataclass("Config", fields, frozen=True)


_CONFIG_CLASS: type | None = None


def config_class() -> type:
    global _CONFIG_CLASS
    if _CONFIG_CLASS is None:
        _CONFIG_CLASS = _make_config_class()
    return _CONFIG_CLASS


# --------------------------------------------------------------------------- typed conversion

def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, key: str, source: str) -> Any:
    """Check `value` against annotation `tp`; return it in the dataclass's own form."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin is Literal:
        if not any(value == a and type(value) is type(a) for a in args):
            allowed = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{source}: key '{key}' has value {value!r}; allowed values: {allowed}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key, source)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{source}: key '{key}' has an invalid value")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: key '{key}' must be a table, got {type(value).__name__}")
        return build_dataclass(tp, value, source, prefix=key + ".")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: key '{key}' must be a list, got {type(value).__name__} {value!r}")
        item_tp = args[0] if args else Any
        return tuple(_convert(v, item_tp, f"{key}[{i}]", source) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: key '{key}' must be a table, got {type(value).__name__}")
        val_tp = args[1] if len(args) == 2 else Any
        return types.MappingProxyType({k: _convert(v, val_tp, f"{key}.{k}", source) for k, v in value.items()})
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: key '{key}' must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: key '{key}' must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: key '{key}' must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: key '{key}' must be a string, got {value!r}")
        return value
    raise ConfigError(f"{source}: key '{key}' has unsupported type {_type_name(tp)}")


def build_dataclass(cls: type, data: dict, source: str, prefix: str = "") -> Any:
    """Instantiate frozen dataclass `cls` from a TOML table, rejecting unknown keys."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key '{prefix}{unknown[0]}' (known keys in [{prefix.rstrip('.') or 'top'}]: "
            f"{', '.join(sorted(known))})"
        )
    kwargs = {k: _convert(v, hints[k], prefix + k, source) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ValueError as exc:  # a settings class's own range check (__post_init__)
        section = prefix.rstrip(".") or "top"
        raise ConfigError(f"{source}: [{section}] {exc}") from None


def to_dict(obj: Any) -> Any:
    """Plain-data view of a config (for JSON records in every output folder)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, (dict, types.MappingProxyType)):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


# --------------------------------------------------------------------------- overrides

def parse_override(text: str) -> tuple[str, Any]:
    """`a.b=value` -> ("a.b", value); the value is read as TOML, else taken as a string."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' is not of the form key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def _set_dotted(data: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override '{key}': '{part}' is not a table")
    node[parts[-1]] = value


def is_override(token: str) -> bool:
    """True for a `key=value` command-line token (not an option, not a path with '=')."""
    if token.startswith("-") or "=" not in token:
        return False
    key = token.split("=", 1)[0]
    return bool(key) and all(part.replace("_", "a").replace("-", "a").isalnum() for part in key.split("."))


# --------------------------------------------------------------------------- loading

def resolve_config_path(path: str | os.PathLike | None) -> Path:
    path = Path(path or os.environ.get("NORLM_CONFIG") or DEFAULT_CONFIG)
    if not path.exists() and not path.is_absolute() and (REPO_ROOT / path).exists():
        path = REPO_ROOT / path
    if not path.exists() and path.suffix != ".toml":
        candidate = REPO_ROOT / "configs" / f"{path}.toml"
        if candidate.exists():
            path = candidate
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    return path


def load_config(path: str | os.PathLike | None = None, overrides: typing.Iterable[str] = ()) -> Any:
    """Read a TOML config (a path, or a name under configs/) and apply `key=value` overrides."""
    cfg_path = resolve_config_path(path)
    try:
        with open(cfg_path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: invalid TOML: {exc}") from None
    source = str(cfg_path)
    for item in overrides:
        key, value = parse_override(item)
        _set_dotted(data, key, value)
        source = f"{cfg_path} (with overrides {' '.join(overrides)})"
    data["source"] = str(cfg_path)
    cfg = build_dataclass(config_class(), data, source)
    return cfg


def work_dir(cfg: Any) -> Path:
    """The work folder of a config: WORK env var, else run.work_dir, else work/<run.name>."""
    env = os.environ.get("NORLM_WORK")
    if env:
        return Path(env)
    if cfg.run.work_dir:
        return Path(cfg.run.work_dir)
    return Path("work") / cfg.run.name


def dump_json(cfg: Any) -> str:
    return json.dumps(to_dict(cfg), indent=2, ensure_ascii=False, sort_keys=True)
