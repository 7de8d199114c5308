"""The Slurm job of one stage: defaults from recipes/stages.toml, overridden by the config's
[hpc.<stage>] table, checked against the cluster profile before anything is written.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from norlm.config import REPO_ROOT
from norlm.hpc.profile import ClusterProfile, Partition, RenderError, parse_time

STAGES_FILE = REPO_ROOT / "recipes" / "stages.toml"
PHASED = ("bert-data", "bert-train")


@dataclass(frozen=True)
class Job:
    """Everything the header of one stage's job script needs, fully resolved."""

    stage: str
    phase: int | None
    kind: str
    mpi: bool
    partition: str
    nodes: int
    tasks_per_node: int
    cpus_per_task: int
    gpus_per_node: int
    mem_per_cpu_gb: int
    time: str
    array: int
    signal_seconds: int
    chain: int
    done: str  # completion file, relative to the work folder

    @property
    def label(self) -> str:
        return self.stage if self.phase is None else f"{self.stage}-p{self.phase}"


def stage_defaults(path: Path = STAGES_FILE) -> dict[str, dict[str, Any]]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def known_stages() -> list[str]:
    return list(stage_defaults())


def resolve_job(stage: str, phase: int | None, hpc: Any, profile: ClusterProfile) -> Job:
    """Merge defaults and config for `stage` and check the result against `profile`."""
    defaults = stage_defaults()
    if stage not in defaults:
        raise RenderError(f"unknown stage '{stage}' (known: {', '.join(defaults)}, or all)")
    spec = dict(defaults[stage])
    override = getattr(hpc, stage.replace("-", "_"))
    for key, value in dataclasses.asdict(override).items():
        if value is not None:
            spec[key] = value
    kind = spec["kind"]
    partition = spec.get("partition") or (profile.gpu_partition if kind == "gpu" else profile.cpu_partition)
    if stage in PHASED:
        if phase not in (1, 2):
            raise RenderError(f"{stage} needs --phase 1 or 2, got {phase}")
    else:
        phase = None
    job = Job(
        stage=stage, phase=phase, kind=kind, mpi=bool(spec["mpi"]), partition=partition,
        nodes=int(spec.get("nodes", 1)), tasks_per_node=int(spec.get("tasks_per_node", 1)),
        cpus_per_task=int(spec.get("cpus_per_task", 1)), gpus_per_node=int(spec.get("gpus_per_node", 0)),
        mem_per_cpu_gb=int(spec.get("mem_per_cpu_gb", 1)), time=str(spec["time"]),
        array=int(spec.get("array", 1)), signal_seconds=int(spec.get("signal_seconds", 0)),
        chain=int(spec.get("chain", 0)), done=str(spec["done"]).format(phase=phase),
    )
    check_job(job, profile)
    return job


def check_job(job: Job, profile: ClusterProfile) -> Partition:
    """Refuse a job the cluster would reject or queue forever; the message names the fix."""
    part = profile.partition(job.partition)
    where = f"{job.label} on {profile.name} partition '{job.partition}'"
    hint = f"(set [hpc.{job.stage.replace('-', '_')}] in the config)"
    if job.gpus_per_node > part.gpus_per_node:
        raise RenderError(f"{where}: {job.gpus_per_node} GPUs per node requested, but its nodes have "
                          f"{part.gpus_per_node} {hint}")
    if job.kind == "gpu" and part.gpus_per_node and job.gpus_per_node == 0:
        raise RenderError(f"{where}: a GPU stage with gpus_per_node = 0 {hint}")
    if min(job.nodes, job.tasks_per_node, job.cpus_per_task, job.mem_per_cpu_gb, job.array) < 1:
        raise RenderError(f"{where}: nodes, tasks_per_node, cpus_per_task, mem_per_cpu_gb and array must be >= 1")
    if job.nodes > part.max_nodes:
        raise RenderError(f"{where}: {job.nodes} nodes requested, the partition allows {part.max_nodes} {hint}")
    cpus = job.tasks_per_node * job.cpus_per_task
    if cpus > part.cpus_per_node:
        raise RenderError(f"{where}: {job.tasks_per_node} tasks x {job.cpus_per_task} CPUs = {cpus} per node, "
                          f"but its nodes have {part.cpus_per_node} {hint}")
    if cpus * job.mem_per_cpu_gb > part.mem_per_node_gb:
        raise RenderError(f"{where}: {cpus} CPUs x {job.mem_per_cpu_gb} GB = {cpus * job.mem_per_cpu_gb} GB per "
                          f"node, but its nodes have {part.mem_per_node_gb} GB {hint}")
    if parse_time(job.time) > parse_time(part.max_time):
        raise RenderError(f"{where}: time {job.time} is over the partition's limit {part.max_time}; use a "
                          f"shorter time and chain follow-up jobs (chain = N) {hint}")
    if job.signal_seconds and job.signal_seconds >= parse_time(job.time):
        raise RenderError(f"{where}: signal_seconds {job.signal_seconds} is not shorter than the time limit {job.time}")
    if job.chain < 0:
        raise RenderError(f"{where}: chain must be >= 0")
    return part
