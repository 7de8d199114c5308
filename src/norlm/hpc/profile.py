"""Cluster profiles (recipes/clusters/<name>.toml): partitions, node sizes, account format,
module names and launcher of one cluster, read into frozen dataclasses.

A profile is data, not code, so adding a cluster means adding one TOML file.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from norlm.config import REPO_ROOT, ConfigError, build_dataclass

CLUSTERS_DIR = REPO_ROOT / "recipes" / "clusters"


class RenderError(ValueError):
    """A job that cannot be rendered for this cluster; the message says what to change."""


@dataclass(frozen=True)
class Partition:
    cpus_per_node: int = 1
    mem_per_node_gb: int = 1
    gpus_per_node: int = 0
    gpu_type: str = ""
    gpu_request: str = "--gres=gpu:{gpus}"  # {gpus}, {type}, {nvme_gb} are filled in
    nvme_gb: int = 0
    max_nodes: int = 1
    max_time: str = "01:00:00"


@dataclass(frozen=True)
class ClusterProfile:
    name: str = ""
    account_pattern: str = ".+"
    account_example: str = ""
    cpu_partition: str = ""
    gpu_partition: str = ""
    memory_request: str = "per-cpu"  # "per-cpu" (--mem-per-cpu) or "node" (--mem)
    srun_mpi: str = ""  # value of srun --mpi=; empty keeps the site default
    local_scratch: str = ""
    module_init: str = ""
    module_use: str = ""
    modules_gpu: tuple[str, ...] = ()
    modules_cpu: tuple[str, ...] = ()
    partitions: dict[str, Partition] | None = None
    path: str = ""

    def partition(self, name: str) -> Partition:
        parts: Mapping[str, Partition] = self.partitions or MappingProxyType({})
        if name not in parts:
            raise RenderError(f"unknown partition '{name}' on {self.name} (known: {', '.join(sorted(parts))}; "
                              f"profile {self.path})")
        return parts[name]


def available_profiles() -> list[str]:
    return sorted(p.stem for p in CLUSTERS_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path) -> ClusterProfile:
    """A profile by name (recipes/clusters/NAME.toml) or by path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = CLUSTERS_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise RenderError(f"no cluster profile '{name_or_path}' ({path} missing; known: "
                          f"{', '.join(available_profiles())})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RenderError(f"{path}: invalid TOML: {exc}") from None
    data["path"] = str(path)
    try:
        profile = build_dataclass(ClusterProfile, data, str(path))
    except ConfigError as exc:
        raise RenderError(str(exc)) from None
    for field_name in ("cpu_partition", "gpu_partition"):
        part = getattr(profile, field_name)
        if part not in (profile.partitions or {}):
            raise RenderError(f"{path}: {field_name} '{part}' is not one of its [partitions.*]")
    try:
        re.compile(profile.account_pattern)
    except re.error as exc:
        raise RenderError(f"{path}: account_pattern is not a regular expression: {exc}") from None
    return profile


_TIME = re.compile(r"^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$")


def parse_time(text: str) -> int:
    """Slurm time limit ("D-HH:MM:SS", "HH:MM:SS", "MM:SS" or "D-HH:MM") in seconds."""
    text = text.strip()
    match = _TIME.match(text)
    if not match:
        raise RenderError(f"time '{text}' is not a Slurm time limit like 2-00:00:00 or 04:30:00")
    days, a, b, c = match.groups()
    if days is not None and a is None:  # D-HH:MM
        hours, minutes, seconds = int(b), int(c), 0
    elif a is None:  # MM:SS
        hours, minutes, seconds = 0, int(b), int(c)
    else:
        hours, minutes, seconds = int(a), int(b), int(c)
    return ((int(days or 0) * 24 + hours) * 60 + minutes) * 60 + seconds
