"""`norlm plan`: what a config costs on a cluster before anything is submitted.

    norlm plan --config configs/norbert1.toml --cluster saga
    norlm plan --config configs/norbert1.toml --cluster lumi --from-log WORK/bert/phase1/dllog.json

For every stage: partition, nodes and GPUs (as `norlm sbatch` would render them), and for the BERT
training phases the expected wall time, the jobs it takes at the partition's time limit, GPU-hours
and the site's billing units.  Time = FLOPs (the model's count per sequence x global batch x
steps) / (GPUs x per-GPU throughput).  The throughput is a labelled figure (NorBERT-1's own P100
logs, NVIDIA's published V100/A100 BERT tables, or peak x an assumed MFU for GH200 and MI250X),
or, with --from-log, the throughput_train of a real run's DLLogger file.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from norlm.config import REPO_ROOT
from norlm.hpc.jobs import Job, resolve_job
from norlm.hpc.profile import ClusterProfile, RenderError, available_profiles, load_profile, parse_time
from norlm.hpc.render import check_retired, pipeline
from norlm.hpc.throughput import Throughput, flops_per_sequence, throughput_for


@dataclass(frozen=True)
class StagePlan:
    job: Job
    flops: float = 0.0  # 0: not estimated (CPU stages, ELMo)
    tflops_per_gpu: float = 0.0
    hours: float = 0.0
    gpu_hours: float = 0.0
    jobs: int = 0  # jobs of the partition's time limit (incl. the SIGUSR1 margin) the phase takes
    billing: float = 0.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", default=None, help=f"cluster profile: {', '.join(available_profiles())} "
                        "(default: [hpc] cluster of the config)")
    parser.add_argument("--from-log", default="", metavar="DLLOG",
                        help="use the steady-state throughput_train of this DLLogger file (a real run) instead "
                             "of the labelled figure")
    parser.add_argument("--log-gpus", type=int, default=0,
                        help="GPUs of the --from-log run (default: `workers` of run-bert-train.json next to it)")
    parser.add_argument("--allow-retired", action="store_true", help="plan for a retired cluster anyway")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def _model(cfg: Any) -> dict[str, int]:
    path = Path(cfg.bert.model_config)
    path = path if path.is_absolute() else REPO_ROOT / path
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"layers": data["num_hidden_layers"], "hidden": data["hidden_size"],
            "intermediate": data["intermediate_size"], "vocab": data["vocab_size"]}


def phase_shape(cfg: Any, phase: int) -> tuple[int, int, int]:
    """(sequence length, predictions per sequence, updates) of one BERT phase."""
    data = getattr(cfg.bert_data, f"phase{phase}")
    steps = getattr(cfg.bert, f"phase{phase}").train_steps
    if phase == 2 and cfg.bert.phase2_mode == "continue":  # phase 2 continues phase 1's step counter
        steps -= cfg.bert.phase1.train_steps
    return data.max_seq_length, data.max_predictions_per_seq, steps


def phase_flops(cfg: Any, phase: int, global_batch: int) -> float:
    seq_len, predictions, steps = phase_shape(cfg, phase)
    return flops_per_sequence(**_model(cfg), seq_len=seq_len, predictions=predictions) * global_batch * steps


def log_throughput(cfg: Any, path: str, log_gpus: int) -> Throughput:
    """Per-GPU effective TFLOP/s of a real run, from its DLLogger file."""
    from norlm.dllogger import read_dllog

    records = read_dllog(path)
    values = [r["data"]["throughput_train"] for r in records
              if isinstance(r.get("data"), dict) and "throughput_train" in r["data"]]
    if not values:
        raise RenderError(f"{path}: no throughput_train record (is it a bert-train dllog.json?)")
    seq_s = float(values[-1])  # the final record is the steady-state mean
    if not log_gpus:
        run = Path(path).parent / "run-bert-train.json"
        if not run.exists():
            raise RenderError(f"{path}: pass --log-gpus (no {run.name} next to it says how many workers ran)")
        log_gpus = int(json.loads(run.read_text(encoding="utf-8")).get("workers", 1))
    phase = 2 if "phase2" in str(path) else 1
    seq_len, predictions, _ = phase_shape(cfg, phase)
    tflops = seq_s / log_gpus * flops_per_sequence(**_model(cfg), seq_len=seq_len, predictions=predictions) / 1e12
    return Throughput("(log)", cfg.bert.precision, tflops, tflops, "measured here",
                      f"{path}: {seq_s:g} seq/s on {log_gpus} GPU(s), phase {phase}")


def plan(cfg: Any, profile: ClusterProfile, measured: Throughput | None = None) -> list[StagePlan]:
    from norlm.hpc.batch import bert_batch

    plans = []
    for stage, phase in pipeline():
        job = resolve_job(stage, phase, cfg.hpc, profile)
        batch = bert_batch(cfg, job)
        if batch is None:
            plans.append(StagePlan(job))
            continue
        part = profile.partition(job.partition)
        figure = measured or throughput_for(part.gpu_model, cfg.bert.precision)
        seq_len = phase_shape(cfg, phase)[0]
        flops = phase_flops(cfg, phase, batch.global_batch)
        tflops = figure.at(seq_len)
        hours = flops / (job.gpus * tflops * 1e12) / 3600
        usable = (parse_time(job.time) - job.signal_seconds) / 3600
        rate = profile.billing.per_gpu_hour if profile.billing else 0.0
        plans.append(StagePlan(job, flops, tflops, hours, hours * job.gpus, math.ceil(hours / usable),
                               hours * job.gpus * rate))
    return plans


def figures_used(cfg: Any, profile: ClusterProfile, plans: list[StagePlan], measured: Throughput | None) -> list[Throughput]:
    seen = []
    for item in plans:
        if item.flops:
            figure = measured or throughput_for(profile.partition(item.job.partition).gpu_model, cfg.bert.precision)
            if figure not in seen:
                seen.append(figure)
    return seen


def _hours(h: float) -> str:
    return f"{h:,.1f} h" if h < 48 else f"{h:,.0f} h ({h / 24:.1f} days)"


def format_plan(cfg: Any, profile: ClusterProfile, plans: list[StagePlan], measured: Throughput | None) -> str:
    billing = profile.billing.unit if profile.billing else ""
    lines = [f"norlm plan: {Path(cfg.source).name} on {profile.name} ({profile.cpu_arch} GPU nodes, "
             f"precision {cfg.bert.precision})", "",
             "| stage | partition | nodes x GPUs | time limit | TFLOP/s per GPU | wall time | jobs | GPU-hours |"
             + (f" {billing} |" if billing else ""),
             "|---|---|---|---|---|---|---|---|" + ("---|" if billing else "")]
    for item in plans:
        job = item.job
        shape = f"{job.nodes} x {job.gpus_per_node}" if job.gpus_per_node else f"{job.nodes} (CPU)"
        if item.flops:
            cells = [f"{item.tflops_per_gpu:.2f}", _hours(item.hours), f"{item.jobs}"
                     + (f" (chain {job.chain}: too short)" if item.jobs > job.chain + 1 else ""),
                     f"{item.gpu_hours:,.0f}"] + ([f"{item.billing:,.0f}"] if billing else [])
        else:
            cells = ["-", "not estimated", "-", "-"] + (["-"] if billing else [])
        lines.append(f"| {job.label} | {job.partition} | {shape} | {job.time} | " + " | ".join(cells) + " |")
    total = sum(p.gpu_hours for p in plans)
    wall = sum(p.hours for p in plans)
    lines += ["", f"BERT training in total: {total:,.0f} GPU-hours, {_hours(wall)} of wall time"
              + (f", {sum(p.billing for p in plans):,.0f} {billing}" if billing else "")]
    for item in plans:
        if item.flops:
            lines.append(f"  {item.job.label}: {item.flops:.3g} FLOP (model count per sequence x global batch x steps)")
    lines.append("Throughput figures:")
    for figure in figures_used(cfg, profile, plans, measured):
        lines.append(f"  {figure.gpu} {figure.precision}: {figure.tflops_128:g} / {figure.tflops_512:g} TFLOP/s "
                     f"at seq 128 / 512 - {figure.label}: {figure.source}")
    if profile.billing:
        lines.append(f"Billing: {profile.billing.per_gpu_hour:g} {billing} per GPU-hour ({profile.billing.source})")
    return "\n".join(lines)


def main(args: argparse.Namespace, cfg: Any) -> int:
    try:
        profile = load_profile(args.cluster or cfg.hpc.cluster)
        check_retired(profile, args.allow_retired)
        measured = log_throughput(cfg, args.from_log, args.log_gpus) if args.from_log else None
        plans = plan(cfg, profile, measured)
    except (KeyError, OSError) as exc:  # a RenderError is a StageError: the CLI prints it
        raise RenderError(str(exc).strip(chr(39))) from exc
    if args.json:
        rows = [{"stage": p.job.label, "partition": p.job.partition, "nodes": p.job.nodes, "gpus": p.job.gpus,
                 "time_limit": p.job.time, "flops": p.flops, "tflops_per_gpu": p.tflops_per_gpu,
                 "hours": p.hours, "gpu_hours": p.gpu_hours, "jobs": p.jobs, "billing": p.billing} for p in plans]
        print(json.dumps({"cluster": profile.name, "stages": rows}, indent=1))
    else:
        print(format_plan(cfg, profile, plans, measured))
    return 0
