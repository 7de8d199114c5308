"""`norlm plan`: what a config costs on a cluster before anything is submitted.

    norlm plan --config configs/norbert1.toml --cluster saga
    norlm plan --config configs/norelmo30.toml --compare
    norlm plan --config configs/demo.toml --cluster saga --from-log logs/demo/bert_phase1_dllog.json

Every stage the config runs (BERT with a [bert]/[bert_data] table, ELMo with [elmo]), as `norlm
sbatch` renders it: wall time, jobs at the time limit, GPU-hours, CPU core-hours, billing units,
disk, and the basis of each figure (cpu_cost, train_cost, post_cost); then the totals (the
critical path through the stage graph) and whether the input pipelines can feed the GPUs (feed).
--from-log replaces the labelled GPU figure of one BERT phase by a real run's throughput (log_run).
Standard library only.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from norlm.hpc.estimate import StagePlan, corpus_size
from norlm.hpc.feed import Feed, bert_feed, elmo_feed, load_feed
from norlm.hpc.jobs import resolve_job
from norlm.hpc.log_run import LogRun
from norlm.hpc.plan_format import CLUSTERS, Totals, format_plan, hours_text, plan_json, totals
from norlm.hpc.profile import ClusterProfile, RenderError, available_profiles, load_profile
from norlm.hpc.render import check_retired, pipeline

FAMILY = {"vocab": "bert", "bert-data": "bert", "bert-train": "bert", "bert-export": "bert",
          "elmo-vocab": "elmo", "elmo-train": "elmo", "elmo-export": "elmo"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", default=None, help=f"cluster profile: {', '.join(available_profiles())} "
                        "(default: [hpc] cluster of the config)")
    parser.add_argument("--compare", action="store_true", help="the totals on every current cluster side by side")
    parser.add_argument("--corpus-gb", type=float, default=0.0,
                        help="size of the input text in GB (default: the paper's ~12 GB for the full-data configs, "
                             "else the config's source files)")
    parser.add_argument("--from-log", default="", metavar="DLLOG",
                        help="use the steady-state throughput_train of this bert-train DLLogger file (a real run) "
                             "for the phase its run metadata names")
    parser.add_argument("--log-phase", type=int, default=0, help="phase of a --from-log file without run metadata")
    parser.add_argument("--log-gpus", type=int, default=0, help="workers of a --from-log file without run metadata")
    parser.add_argument("--allow-retired", action="store_true", help="plan for a retired cluster anyway")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def stages_of(cfg: Any) -> list[tuple[str, int | None]]:
    """The (stage, phase) jobs this config runs, in submission order."""
    from norlm.hpc.post_cost import runs

    families = runs(cfg)
    return [(s, p) for s, p in pipeline() if FAMILY.get(s, "bert") in families or s in ("corpus", "evaluate")]


def plan(cfg: Any, profile: ClusterProfile, measured: LogRun | None = None, corpus_gb: float = 0.0) -> list[StagePlan]:
    from norlm.hpc import cpu_cost, post_cost, train_cost
    from norlm.scale_rates import load_rates, measured_input_mb

    rates = load_rates()
    measured_mb = measured_input_mb()
    corpus = corpus_size(cfg, corpus_gb)
    plans = []
    for stage, phase in stages_of(cfg):
        job = resolve_job(stage, phase, cfg.hpc, profile)
        if stage == "bert-train":
            figure = measured.figure if measured and measured.phase == phase else None
            plans.append(train_cost.bert_train(cfg, job, profile, figure))
        elif stage == "elmo-train":
            plans.append(train_cost.elmo_train(cfg, job, profile, corpus))
        elif stage in ("bert-export", "elmo-export"):
            plans.append(post_cost.export(cfg, job))
        elif stage == "evaluate":
            plans.append(post_cost.evaluate(cfg, job, profile))
        else:
            plans.append(cpu_cost.cpu_stage(job, rates, cfg, corpus, measured_mb))
    return plans


def feeds(cfg: Any, profile: ClusterProfile, plans: list[StagePlan]) -> list[Feed]:
    """Each GPU training stage's input pipeline against its GPU's demand."""
    from norlm.hpc.elmo_cost import config_flops_per_token
    from norlm.hpc.train_cost import phase_shape, sequence_flops

    rates, out = load_feed(), []
    for item in plans:
        job = item.job
        if job.stage == "bert-train":
            demand = item.tflops_per_gpu * 1e12 / sequence_flops(cfg, job.phase)
            feed = bert_feed(rates, job.label, phase_shape(cfg, job.phase)[0], job.cpus_per_task, demand)
        elif job.stage == "elmo-train":
            feed = elmo_feed(rates, job.label, job.gpus, item.tflops_per_gpu * 1e12 / config_flops_per_token(cfg.elmo))
        else:
            continue
        if feed:
            out.append(feed)
    return out


def main(args: argparse.Namespace, cfg: Any) -> int:

    try:
        if args.compare:
            print(compare_table(cfg, args.corpus_gb))
            return 0
        profile = load_profile(args.cluster or cfg.hpc.cluster)
        check_retired(profile, args.allow_retired)
        measured = LogRun(cfg, args.from_log, args.log_phase, args.log_gpus) if args.from_log else None
        plans = plan(cfg, profile, measured, args.corpus_gb)
        out = feeds(cfg, profile, plans)
    except (KeyError, OSError) as exc:  # a RenderError is a StageError: the CLI prints it
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise RenderError(f"{text} (cluster profile {args.cluster or cfg.hpc.cluster})") from exc
    if args.json:
        print(json.dumps(plan_json(profile, plans, out, measured), indent=1))
    else:
        print(format_plan(cfg, profile, plans, out, measured, corpus_size(cfg, args.corpus_gb)))
    return 0


def cluster_totals(cfg: Any, corpus_gb: float = 0.0) -> list[tuple[ClusterProfile, Totals, str]]:
    """Per cluster: its totals and the training jobs' GPUs ("16 x P100")."""
    out = []
    for name in CLUSTERS:
        profile = load_profile(name)
        plans = plan(cfg, profile, None, corpus_gb)
        train = max((p for p in plans if p.flops), key=lambda p: p.gpu_hours)
        out.append((profile, totals(plans),
                    f"{train.job.gpus} x {profile.partition(train.job.partition).gpu_model}"))
    return out


def compare_table(cfg: Any, corpus_gb: float = 0.0, title: bool = True) -> str:
    lines = [f"norlm plan --compare: {Path(cfg.source).name}", ""] if title else []
    lines += ["| cluster | training on | critical path | GPU-hours | CPU core-hours | billing | disk GB |",
              "|---|---|---|---|---|---|---|"]
    for profile, t, gpus in cluster_totals(cfg, corpus_gb):
        bill = f"{t.billing:,.0f} {profile.billing.unit}" if profile.billing else "-"
        lines.append(f"| {profile.name} | {gpus} | {hours_text(t.critical_hours)} | {t.gpu_hours:,.0f} | "
                     f"{t.core_hours:,.0f} | {bill} | {t.disk_gb:,.0f} |")
    return "\n".join(lines)
