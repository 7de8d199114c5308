"""`norlm plan` output: the stage table, the totals (critical path through the stage graph) and JSON.
The clusters side by side (--compare) are in plan.py, README's totals table in plan_readme.py.
Standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from norlm.hpc.estimate import StagePlan
from norlm.hpc.feed import Feed
from norlm.hpc.profile import ClusterProfile

CLUSTERS = ("olivia", "roihu", "lumi", "saga")
README_CONFIGS = ("norbert1", "norelmo30")


@dataclass(frozen=True)
class Totals:
    critical_hours: float
    gpu_hours: float
    core_hours: float
    billing: float
    disk_gb: float


def totals(plans: list[StagePlan]) -> Totals:
    """Sums, and the wall time of the longest chain of stages (queueing not counted)."""
    from norlm.stages import needs

    done: dict[tuple, float] = {}
    for item in plans:  # pipeline order: every upstream stage comes first
        key = (item.job.stage, item.job.phase)
        done[key] = item.hours + max((done[n] for n in needs(*key) if n in done), default=0.0)
    return Totals(max(done.values(), default=0.0), sum(p.gpu_hours for p in plans), sum(p.core_hours for p in plans),
                  sum(p.billing for p in plans), sum(p.disk_gb for p in plans))


def hours_text(h: float) -> str:
    if h < 1:
        return f"{h * 60:.1f} min"
    return f"{h:,.1f} h" if h < 48 else f"{h:,.0f} h ({h / 24:.1f} days)"


def _row(item: StagePlan, billing: bool) -> str:
    job = item.job
    shape = f"{job.nodes} x {job.gpus_per_node}" if job.gpus_per_node else f"{job.array * job.nodes} (CPU)"
    cells = [job.label, job.partition, shape, job.time, item.rate, hours_text(item.hours), str(item.jobs),
             str(item.nodes_to_fit or "-"),
             f"{item.gpu_hours:,.0f}" if item.gpu_hours else "-", f"{item.core_hours:,.0f}",
             f"{item.disk_gb:,.1f}", f"{item.mem_gb:,.1f}" if item.mem_gb else "-"]
    if billing:
        cells.append(f"{item.billing:,.0f}" if item.billing else "-")
    return "| " + " | ".join(cells) + " |"


def format_plan(cfg: Any, profile: ClusterProfile, plans: list[StagePlan], feeds: list[Feed], measured,
                corpus) -> str:
    unit = profile.billing.unit if profile.billing else ""
    size = f"{corpus.bytes / 1e9:,.2f} GB" if corpus.bytes >= 1e9 else f"{corpus.bytes / 1e6:,.1f} MB"
    lines = [f"norlm plan: {Path(cfg.source).name} on {profile.name} (precision {cfg.bert.precision}; input "
             f"{size} of text, {corpus.words / 1e6:,.1f} M words: {corpus.basis})", "",
             "| stage | partition | nodes x GPUs | time limit | rate | wall time | jobs | nodes to fit | GPU-hours | "
             "core-hours | disk GB | GB per worker |" + (f" {unit} |" if unit else ""),
             "|---" * (12 + bool(unit)) + "|"]
    lines += [_row(p, bool(unit)) for p in plans]
    t = totals(plans)
    lines += ["", f"Total: critical path {hours_text(t.critical_hours)} (without queueing), {t.gpu_hours:,.0f} "
              f"GPU-hours, {t.core_hours:,.0f} CPU core-hours" + (f", {t.billing:,.0f} {unit}" if unit else "")
              + f", {t.disk_gb:,.0f} GB written", "Basis of each figure:"]
    lines += [f"  {p.label}: {p.basis}" for p in plans]
    lines += [f"  {p.label}: {p.flops:.3g} FLOP" for p in plans if p.flops]
    notes = [f"  {p.label}: {n}" for p in plans for n in p.notes]
    if notes:
        lines += ["Warnings:"] + notes
    if feeds:
        lines += ["Input pipeline against the GPU's demand (bench/input_pipeline.py):"] + [f.line() for f in feeds]
    if measured:
        lines.append(measured.check_line())
    if any(p.job.stage == "elmo-train" for p in plans):
        from norlm.hpc.elmo_cost import cross_anchor

        check = cross_anchor()
        lines.append(f"ELMo cross-anchor check: the NorELMo30 paper run (100 h, 4 P100) predicts simple_elmo_training "
                     f"#6 (2 A100) at {check.predicted_s:.1f} s per 100 batches; measured {check.measured_s:.1f} s, "
                     f"error {check.error:+.1%}")
    if profile.billing:
        lines.append(f"Billing: {profile.billing.per_gpu_hour:g} {unit} per GPU-hour ({profile.billing.source})")
    return "\n".join(lines)


def plan_json(profile: ClusterProfile, plans: list[StagePlan], feeds: list[Feed], measured) -> dict:
    rows = [{"stage": p.label, "partition": p.job.partition, "nodes": p.job.nodes, "gpus": p.job.gpus,
             "time_limit": p.job.time, "flops": p.flops, "tflops_per_gpu": p.tflops_per_gpu, "hours": p.hours,
             "gpu_hours": p.gpu_hours, "core_hours": p.core_hours, "jobs": p.jobs, "nodes_to_fit": p.nodes_to_fit,
             "billing": p.billing,
             "disk_gb": p.disk_gb, "mem_gb": p.mem_gb, "basis": p.basis, "notes": list(p.notes)} for p in plans]
    out = {"cluster": profile.name, "stages": rows, "totals": totals(plans).__dict__,
           "feeds": [{"stage": f.stage, "demand": f.demand, "capacity": f.capacity, "ratio": f.ratio} for f in feeds]}
    if measured:
        out["from_log"] = {"phase": measured.phase, "workers": measured.workers, "updates": measured.updates,
                           "startup_s": measured.startup_s, "predicted_s": measured.predicted_s(),
                           "measured_s": measured.measured_s}
    return out
