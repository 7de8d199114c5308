"""Render a Slurm batch script for a pipeline stage on a cluster profile (and optionally submit it).

    norlm sbatch --config configs/norbert1.toml --cluster saga --account nn9851k --stage bert-train --phase 1
    norlm sbatch ... --stage all --submit      # the whole pipeline, chained with afterok dependencies

Scripts go to WORK/slurm/<stage>[-p<phase>].sbatch, job logs to WORK/slurm/logs/.  The job's
size comes from recipes/stages.toml and the config's [hpc.<stage>] table; the cluster's partitions,
node sizes, module names and launcher from recipes/clusters/<cluster>.toml.  Rendering refuses a
missing or malformed account, an unknown partition, and a job larger than the partition's nodes.
A retired cluster's profile (Puhti) stays readable but renders only with --allow-retired.
"""
from __future__ import annotations

import argparse
import re
import shlex
import string
from pathlib import Path
from typing import Any

from norlm import __version__
from norlm.config import REPO_ROOT, work_dir
from norlm.files import atomic_open, write_run_record
from norlm.hpc.batch import bert_batch
from norlm.hpc.jobs import PHASED, Job, check_job, known_stages, resolve_job
from norlm.hpc.job_commands import engine_of, env_block, image_of, norlm_command, route_of, software_block, srun_command
from norlm.hpc.profile import ClusterProfile, RenderError, available_profiles, load_profile
from norlm.layout import Layout

TEMPLATES = REPO_ROOT / "recipes" / "templates"


class _Template(string.Template):
    """`@{name}` placeholders, so the shell's own `$VAR` and `${VAR}` pass through untouched."""

    delimiter = "@"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", default=None,
                        help=f"cluster profile: {', '.join(available_profiles())}, or a profile .toml "
                             "(default: [hpc] cluster of the config)")
    parser.add_argument("--account", default="", help="the project to charge: nnXXXXk (Saga, Olivia), "
                        "project_2xxxxxx (Roihu), project_465xxxxxx (LUMI); required")
    parser.add_argument("--stage", required=True, help=f"{', '.join(known_stages())}, or all")
    parser.add_argument("--phase", type=int, default=1, help="BERT phase for bert-data / bert-train (default 1)")
    parser.add_argument("--route", default="", choices=["", "modules", "container"],
                        help="software route instead of the profile's (site modules or an Apptainer image)")
    parser.add_argument("--allow-retired", action="store_true",
                        help="render for a retired cluster's profile anyway (to read the published jobs)")
    parser.add_argument("--submit", action="store_true", help="submit with sbatch after rendering (all: in "
                        "pipeline order with afterok dependencies)")
    parser.add_argument("--after", default="", metavar="JOBID[:JOBID]",
                        help="with --submit: start only after these jobs finished successfully")


def check_account(account: str, profile: ClusterProfile) -> str:
    account = account.strip()
    if not account:
        raise RenderError(f"no account given: pass --account (make ... ACCOUNT=...), e.g. "
                          f"--account {profile.account_example} on {profile.name}")
    if not re.fullmatch(profile.account_pattern, account):
        raise RenderError(f"account '{account}' does not look like a {profile.name} project "
                          f"(expected {profile.account_pattern}, e.g. {profile.account_example})")
    return account


def _memory(job: Job, profile: ClusterProfile, cpus: int) -> str:
    per_gpu = job.mem_per_gpu_gb and job.gpus_per_node
    if profile.memory_request == "node":
        return f"--mem={job.gpus_per_node * job.mem_per_gpu_gb if per_gpu else cpus * job.mem_per_cpu_gb}G"
    if profile.memory_request == "per-gpu" and per_gpu:
        return f"--mem-per-gpu={job.mem_per_gpu_gb}G"
    return f"--mem-per-cpu={job.mem_per_cpu_gb}G"


def _header(job: Job, profile: ClusterProfile, account: str, run_name: str, logs: Path) -> list[str]:
    part = profile.partition(job.partition)
    cpus = job.tasks_per_node * job.cpus_per_task
    lines = [
        f"--job-name=norlm-{run_name}-{job.label}",
        f"--account={account}",
        f"--partition={job.partition}",
        f"--nodes={job.nodes}",
        f"--ntasks-per-node={job.tasks_per_node}",
        f"--cpus-per-task={job.cpus_per_task}",
        _memory(job, profile, cpus),
    ]
    if job.gpus_per_node:
        lines.append(part.gpu_request.format(gpus=job.gpus_per_node, type=part.gpu_type, nvme_gb=part.nvme_gb))
    lines.append(f"--time={job.time}")
    if job.array > 1:
        lines.append(f"--array=0-{job.array - 1}")
        lines.append(f"--output={logs}/%x-%A_%a.out")
    else:
        lines.append(f"--output={logs}/%x-%j.out")
    if job.signal_seconds:
        lines.append(f"--signal=USR1@{job.signal_seconds}")
    return [f"#SBATCH {line}" for line in lines]


def render_script(job: Job, cfg: Any, profile: ClusterProfile, account: str, overrides: list[str],
                  route: str = "") -> str:
    """The complete batch script of `job` as text (deterministic: no dates, no user names)."""
    work = work_dir(cfg).resolve()
    done_file = work / job.done
    route = route_of(profile, cfg, route)
    engine = engine_of(profile, cfg)
    batch = bert_batch(cfg, job)
    own = []  # what the job fixes for this cluster; the user's overrides come after and win
    if job.kind == "gpu" and job.mpi:
        own.append(f"run.engine={engine}")
    if batch:
        own += batch.overrides()
    values = {
        "title": f"{job.stage}" + (f" phase {job.phase}" if job.phase else ""),
        "stage": job.stage,
        "phase": job.phase or "",
        "done_file": done_file,
        "software": software_block(profile, cfg, job, route),
        "collective_env": env_block(profile, job),
        "norlm": norlm_command(profile, cfg, job, route, str(work)),
        "repo": REPO_ROOT,
        "work": work,
        "local_scratch": profile.local_scratch,
        "config": Path(cfg.source).resolve(),
        "overrides": " ".join(shlex.quote(o) for o in [*own, *overrides]),
        "srun": srun_command(profile, job),
        "signal_seconds": job.signal_seconds,
        "shard_args": "--shard-index ${SLURM_ARRAY_TASK_ID:-0} --num-shards ${SLURM_ARRAY_TASK_COUNT:-1}"
        if job.array > 1 else "",
    }
    values["finish"] = _fill("finish.sh", values).rstrip("\n")
    body = _fill(f"{job.stage}.sbatch", values)
    prologue = _fill("prologue.sh", values)
    lines = ["#!/bin/bash"]
    lines += _header(job, profile, account, cfg.run.name, Layout(work).slurm_logs)
    lines += [f"# Rendered by norlm {__version__} `norlm sbatch` for cluster '{profile.name}' "
              f"from {Path(cfg.source).name}; edit the config or profile, not this file."]
    lines += _about(job, profile, cfg, route, engine)
    if batch:
        lines.append(batch.header())
    return "\n".join(lines) + "\n\n" + prologue + "\n" + body


def _about(job: Job, profile: ClusterProfile, cfg: Any, route: str, engine: str) -> list[str]:
    """Comment lines that say how this job runs on this cluster."""
    part = profile.partition(job.partition)
    arch = part.arch or profile.cpu_arch
    where = f"# {job.nodes} node(s) x {job.tasks_per_node} task(s)"
    if job.gpus_per_node:
        where += f", {job.gpus} GPU(s) ({part.gpu_model or part.gpu_type or 'GPU'}, {job.gpus_per_node} per node)"
    lines = [where + f" on {arch}; software route: {route}"
             + (f" ({image_of(profile, cfg, job)})" if route == "container" else "")]
    if job.kind == "gpu" and job.mpi:
        lines.append(f"# Engine: {engine}, one rank per GPU launched by srun")
    if profile.scratch_note:
        lines.append(f"# Scratch: {profile.scratch_note}")
    return lines


def _fill(name: str, values: dict[str, Any]) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    try:
        return _Template(text).substitute({k: str(v) for k, v in values.items()})
    except (KeyError, ValueError) as exc:
        raise RenderError(f"{TEMPLATES / name}: bad placeholder {exc}") from None


def pipeline() -> list[tuple[str, int | None]]:
    """Every (stage, phase) job of the whole pipeline, in submission order."""
    order: list[tuple[str, int | None]] = []
    for stage in known_stages():
        if stage in PHASED:
            order += [(stage, 1), (stage, 2)]
        else:
            order.append((stage, None))
    return order


def check_retired(profile: ClusterProfile, allow_retired: bool) -> None:
    if profile.retired and not allow_retired:
        raise RenderError(f"{profile.retired} (--allow-retired renders the old jobs anyway)")


def render(cfg: Any, cluster: str, account: str, stage: str, phase: int,
           overrides: list[str], route: str = "", allow_retired: bool = False) -> list[tuple[Job, Path]]:
    """Render one stage (or all) into WORK/slurm/; returns (job, script path) pairs."""
    profile = load_profile(cluster)
    check_retired(profile, allow_retired)
    account = check_account(account, profile)
    wanted = pipeline() if stage == "all" else [(stage, phase)]
    jobs = [resolve_job(name, ph, cfg.hpc, profile) for name, ph in wanted]
    lay = Layout(work_dir(cfg).resolve())
    out_dir = lay.slurm_dir
    lay.slurm_logs.mkdir(parents=True, exist_ok=True)
    rendered = []
    for job in jobs:
        check_job(job, profile)
        path = out_dir / f"{job.label}.sbatch"
        with atomic_open(path) as fh:
            fh.write(render_script(job, cfg, profile, account, overrides, route))
        path.chmod(0o755)
        rendered.append((job, path))
    write_run_record(out_dir, cfg, "sbatch", cluster=profile.name, profile=profile.path,
                     scripts=[str(p) for _, p in rendered])
    return rendered


def main(args: argparse.Namespace, cfg: Any) -> int:
    overrides = list(getattr(args, "overrides", []) or [])
    rendered = render(cfg, args.cluster or cfg.hpc.cluster, args.account, args.stage, args.phase, overrides,
                      route=getattr(args, "route", ""), allow_retired=getattr(args, "allow_retired", False))
    for job, path in rendered:
        print(f"rendered {job.label}: {path}")
    if not args.submit:
        return 0
    from norlm.hpc.submit import submit_pipeline  # SubmitError: a StageFailure, printed by the CLI

    submitted = submit_pipeline(rendered, Layout(work_dir(cfg).resolve()).slurm_dir,
                                after=[a for a in args.after.split(":") if a])
    for label, ids in submitted.items():
        print(f"submitted {label}: job {' -> '.join(ids)}")
    return 0
