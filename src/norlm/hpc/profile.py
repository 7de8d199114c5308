"""Cluster profiles (recipes/clusters/<name>.toml): partitions, node sizes, account format, software
route (site modules or a container), launcher, collective-library environment and default engine of
one cluster, read into frozen dataclasses.

A profile is data, not code, so adding a cluster means adding one TOML file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from norlm.compat import tomllib
from norlm.errors import StageError
from norlm.config import REPO_ROOT, ConfigError, build_dataclass

CLUSTERS_DIR = REPO_ROOT / "recipes" / "clusters"
ROUTES = ("modules", "container")
ENGINES = ("horovod", "tf-distribute")


class RenderError(StageError, ValueError):
    """A job that cannot be rendered for this cluster; the message says what to change."""


@dataclass(frozen=True)
class Partition:
    cpus_per_node: int = 1
    mem_per_node_gb: int = 1
    gpus_per_node: int = 0
    gpu_type: str = ""  # Slurm gres type, e.g. p100, gh200
    gpu_model: str = ""  # the throughput key of norlm plan, e.g. P100, GH200, MI250X-GCD
    gpu_request: str = "--gres=gpu:{gpus}"  # {gpus}, {type}, {nvme_gb} are filled in
    nvme_gb: int = 0
    cpus_per_gpu: int = 0  # the share of a node one GPU rank gets (jobs sized with `gpus`)
    mem_per_gpu_gb: int = 0
    max_gpus_per_job: int = 0  # 0: no limit beyond max_nodes x gpus_per_node
    max_nodes: int = 1
    max_time: str = "01:00:00"
    arch: str = ""  # CPU architecture of the nodes when it differs from the profile's
    setup: tuple[str, ...] = ()  # shell lines run before `module load` (e.g. Saga's Zen2Env swap)


@dataclass(frozen=True)
class Container:
    """The container route: `<runtime> exec <gpu_flag> --bind ... <image> python -m norlm ...`."""

    runtime: str = "apptainer"  # apptainer or singularity
    gpu_flag: str = "--nv"  # --nv (NVIDIA) or --rocm (AMD)
    image: str = ""  # GPU stages; $VARS are expanded by the job's shell
    image_cpu: str = ""  # CPU stages, when their nodes have another architecture
    definition: str = ""  # recipes/containers/<file>.def that `make container` builds
    binds: tuple[str, ...] = ()  # host paths (or host:container) the site documents
    binds_gpu: tuple[str, ...] = ()  # bound in GPU jobs only: the host collective libraries (their module is GPU-only)
    ld_library_path: tuple[str, ...] = ()  # container paths put in front of the image's library path


@dataclass(frozen=True)
class Billing:
    """What one GPU-hour costs in the site's units, when the profile knows it."""

    unit: str = ""  # e.g. "GPU-hours (LUMI)"
    per_gpu_hour: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class ClusterProfile:
    name: str = ""
    retired: str = ""  # non-empty: rendering stops with this message unless allowed explicitly
    account_pattern: str = ".+"
    account_example: str = ""
    cpu_arch: str = "x86_64"  # of the GPU nodes (containers must match it)
    cpu_partition: str = ""
    gpu_partition: str = ""
    gpu_partition_large: str = ""  # taken when a job needs more GPUs or nodes than gpu_partition allows
    memory_request: str = "per-cpu"  # "per-cpu" (--mem-per-cpu), "per-gpu" (--mem-per-gpu) or "node" (--mem)
    srun_mpi: str = ""  # value of srun --mpi=; empty keeps the site default
    srun_gpu: tuple[str, ...] = ()  # extra srun options of GPU steps (e.g. LUMI's CPU-binding masks)
    local_scratch: str = ""
    scratch_note: str = ""
    route: str = "modules"  # "modules" or "container"
    engine: str = "horovod"  # the default run.engine of this cluster
    module_init: str = ""
    module_use: str = ""
    modules_gpu: tuple[str, ...] = ()
    modules_cpu: tuple[str, ...] = ()
    python_userbase: str = ""  # modules route: extras go into this user base, installed once
    python_extras: str = ""  # requirements file (repository-relative) of those extras
    env: dict[str, str] | None = None  # collective-library variables exported in every job
    container: Container | None = None
    billing: Billing | None = None
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
    for field_name in ("cpu_partition", "gpu_partition", "gpu_partition_large"):
        part = getattr(profile, field_name)
        if field_name == "gpu_partition_large" and not part:
            continue
        if part not in (profile.partitions or {}):
            raise RenderError(f"{path}: {field_name} '{part}' is not one of its [partitions.*]")
    if profile.route not in ROUTES:
        raise RenderError(f"{path}: route '{profile.route}' is not one of {', '.join(ROUTES)}")
    if profile.engine not in ENGINES:
        raise RenderError(f"{path}: engine '{profile.engine}' is not one of {', '.join(ENGINES)}")
    if profile.memory_request not in ("per-cpu", "per-gpu", "node"):
        raise RenderError(f"{path}: memory_request '{profile.memory_request}' is not per-cpu, per-gpu or node")
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


def format_time(seconds: int) -> str:
    """Seconds as a Slurm time limit D-HH:MM:SS (or HH:MM:SS under a day)."""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{clock}" if days else clock
