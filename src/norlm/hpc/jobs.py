"""The Slurm job of one stage: defaults from recipes/stages.toml, overridden by the config's
[hpc.<stage>] table, checked against the cluster profile before anything is written.

A GPU stage sized with `gpus = N` is laid out on the partition's nodes (whole nodes, one rank per
GPU, the partition's cores and memory per GPU), so the same config renders on every cluster.
`time = "max"` takes the partition's limit.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from norlm.compat import tomllib
from norlm.config import REPO_ROOT
from norlm.stages import stage as registry_stage
from norlm.hpc.profile import ClusterProfile, Partition, RenderError, parse_time

STAGES_FILE = REPO_ROOT / "recipes" / "stages.toml"
PHASED = ("bert-data", "bert-train")
SHAPE = ("nodes", "tasks_per_node", "gpus_per_node")


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
    mem_per_gpu_gb: int = 0  # set when sized from the partition's share per GPU
    reference_gpus: int = 0  # the config's `gpus` (the run the batch sizes were written for)

    @property
    def label(self) -> str:
        return self.stage if self.phase is None else f"{self.stage}-p{self.phase}"

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def ranks(self) -> int:
        return self.nodes * self.tasks_per_node


def stage_defaults(path: Path = STAGES_FILE) -> dict[str, dict[str, Any]]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def known_stages() -> list[str]:
    return list(stage_defaults())


def _gpu_shape(gpus: int, part: Partition, where: str) -> dict[str, int]:
    """Nodes, ranks and per-rank resources of `gpus` GPUs on `part`'s nodes."""
    per_node = part.gpus_per_node
    if per_node < 1:
        raise RenderError(f"{where}: gpus = {gpus} asked for, but the partition has no GPUs")
    if gpus < 1:
        raise RenderError(f"{where}: gpus must be >= 1, got {gpus}")
    if gpus > per_node and gpus % per_node:
        raise RenderError(f"{where}: {gpus} GPUs do not fill whole nodes of {per_node} GPUs; use a multiple "
                          f"of {per_node}")
    on_node = min(gpus, per_node)
    cpus = part.cpus_per_gpu or max(1, part.cpus_per_node // per_node)
    mem_gpu = part.mem_per_gpu_gb or part.mem_per_node_gb // per_node
    return {"nodes": max(1, gpus // per_node), "gpus_per_node": on_node, "tasks_per_node": on_node,
            "cpus_per_task": cpus, "mem_per_cpu_gb": max(1, mem_gpu // cpus), "mem_per_gpu_gb": mem_gpu}


def resolve_job(stage: str, phase: int | None, hpc: Any, profile: ClusterProfile) -> Job:
    """Merge defaults and config for `stage` and check the result against `profile`."""
    defaults = stage_defaults()
    if stage not in defaults:
        raise RenderError(f"unknown stage '{stage}' (known: {', '.join(defaults)}, or all)")
    spec = dict(defaults[stage])
    override = {k: v for k, v in dataclasses.asdict(getattr(hpc, stage.replace("-", "_"))).items()
                if v is not None}
    spec.update(override)
    kind = spec["kind"]
    partition = spec.get("partition") or (profile.gpu_partition if kind == "gpu" else profile.cpu_partition)
    label = stage if stage not in PHASED else f"{stage}-p{phase}"
    where = f"{label} on {profile.name} partition '{partition}'"
    part = profile.partition(partition)
    large = profile.gpu_partition_large
    if kind == "gpu" and "partition" not in spec and large and spec.get("gpus") is not None:
        wanted = int(spec["gpus"])
        if (part.max_gpus_per_job and wanted > part.max_gpus_per_job) or \
                (part.gpus_per_node and -(-wanted // part.gpus_per_node) > part.max_nodes):
            partition, part = large, profile.partition(large)
            where = f"{label} on {profile.name} partition '{partition}'"
    if spec.get("gpus") is not None:
        clash = [k for k in SHAPE if k in override]
        if clash:
            raise RenderError(f"{where}: set either gpus or {', '.join(clash)} in [hpc.{stage.replace('-', '_')}]")
        shape = _gpu_shape(int(spec["gpus"]), part, where)
        for key in ("cpus_per_task", "mem_per_cpu_gb"):
            if key in override:  # an explicit share per rank wins over the partition's
                shape[key] = override[key]
                shape["mem_per_gpu_gb"] = 0
        spec.update(shape)
    if str(spec["time"]) == "max":
        spec["time"] = part.max_time
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
        chain=int(spec.get("chain", 0)), done=registry_stage(stage).done_relative(phase),
        mem_per_gpu_gb=int(spec.get("mem_per_gpu_gb", 0)), reference_gpus=int(spec.get("gpus") or 0),
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
    if part.max_gpus_per_job and job.gpus > part.max_gpus_per_job:
        raise RenderError(f"{where}: {job.gpus} GPUs requested, the partition allows {part.max_gpus_per_job} "
                          f"per job {hint}")
    if min(job.nodes, job.tasks_per_node, job.cpus_per_task, job.mem_per_cpu_gb, job.array) < 1:
        raise RenderError(f"{where}: nodes, tasks_per_node, cpus_per_task, mem_per_cpu_gb and array must be >= 1")
    if job.nodes > part.max_nodes:
        raise RenderError(f"{where}: {job.nodes} nodes requested, the partition allows {part.max_nodes} {hint}")
    cpus = job.tasks_per_node * job.cpus_per_task
    if cpus > part.cpus_per_node:
        raise RenderError(f"{where}: {job.tasks_per_node} tasks x {job.cpus_per_task} CPUs = {cpus} per node, "
                          f"but its nodes have {part.cpus_per_node} {hint}")
    mem = job.gpus_per_node * job.mem_per_gpu_gb if job.mem_per_gpu_gb else cpus * job.mem_per_cpu_gb
    if mem > part.mem_per_node_gb:
        what = (f"{job.gpus_per_node} GPUs x {job.mem_per_gpu_gb} GB" if job.mem_per_gpu_gb
                else f"{cpus} CPUs x {job.mem_per_cpu_gb} GB")
        raise RenderError(f"{where}: {what} = {mem} GB per node, but its nodes have {part.mem_per_node_gb} GB {hint}")
    if parse_time(job.time) > parse_time(part.max_time):
        raise RenderError(f"{where}: time {job.time} is over the partition's limit {part.max_time}; use a "
                          f"shorter time and chain follow-up jobs (chain = N) {hint}")
    if job.signal_seconds and job.signal_seconds >= parse_time(job.time):
        raise RenderError(f"{where}: signal_seconds {job.signal_seconds} is not shorter than the time limit {job.time}")
    if job.chain < 0:
        raise RenderError(f"{where}: chain must be >= 0")
    return part
