"""`norlm plan`: what a config costs on a cluster before anything is submitted.

    norlm plan --config configs/norbert1.toml --cluster saga
    norlm plan --config configs/norelmo30.toml --compare
    norlm plan --config configs/demo.toml --cluster saga --from-log logs/demo/bert_phase1_dllog.json

Every stage the config runs (BERT with a [bert]/[bert_data] table, ELMo with [elmo]), as `norlm
sbatch` renders it: wall time, jobs at the time limit, GPU-hours, CPU core-hours, billing units,
disk, and the basis of each figure (cpu_cost, train_cost, post_cost); then the totals (the
critical path through the stage graph) and whether the input pipelines can feed the GPUs (feed).
--from-log replaces the labelled GPU figure of one BERT phase by a real run's throughput; the phase,
global batch and workers come from the log's "run" metadata record.  Standard library only.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from norlm.hpc.estimate import StagePlan, corpus_size
from norlm.hpc.feed import Feed, bert_feed, elmo_feed, load_feed
from norlm.hpc.jobs import resolve_job
from norlm.hpc.profile import ClusterProfile, RenderError, available_profiles, load_profile
from norlm.hpc.render import check_retired, pipeline
from norlm.hpc.throughput import Throughput

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


def plan(cfg: Any, profile: ClusterProfile, measured: "LogRun | None" = None, corpus_gb: float = 0.0) -> list[StagePlan]:
    from norlm.hpc import cpu_cost, post_cost, train_cost
    from norlm.scale_rates import RATES_FILE, load_rates

    rates = load_rates()
    measured_mb = float(json.loads(Path(RATES_FILE).read_text(encoding="utf-8")).get("input_mb", 0) or 0)
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


class LogRun:
    """A real bert-train run's DLLogger file: its phase, workers, global batch and throughput."""

    def __init__(self, cfg: Any, path: str, phase: int = 0, gpus: int = 0):
        from norlm.dllogger import read_dllog
        from norlm.hpc.train_cost import sequence_flops

        records = read_dllog(path)
        runs = [r["metadata"] for r in records if r.get("type") == "METADATA" and r.get("metric") == "run"]
        info = runs[-1] if runs else {}
        self.phase, self.workers = int(info.get("phase", phase)), int(info.get("workers", gpus))
        if not self.phase or not self.workers:
            raise RenderError(f"{path}: no run metadata record (bert-train writes one since issue 29); "
                              "pass --log-phase and --log-gpus")
        values = [r for r in records if r.get("type") == "LOG" and "throughput_train" in r.get("data", {})]
        if not values:
            raise RenderError(f"{path}: no throughput_train record (is it a bert-train dllog.json?)")
        self.seq_s = float(values[-1]["data"]["throughput_train"])  # the final record is the steady-state mean
        self.global_batch = int(info.get("global_batch", 0))
        stamps = [float(r["timestamp"]) for r in records if "timestamp" in r]
        self.measured_s = max(stamps) - min(stamps)
        self.updates = max((r["step"] for r in values if isinstance(r.get("step"), int)), default=0) - int(
            info.get("start_step", 0))
        tflops = self.seq_s / self.workers * sequence_flops(cfg, self.phase) / 1e12
        self.figure = Throughput("(log)", cfg.bert.precision, tflops, tflops, "measured here",
                                 f"{path}: {self.seq_s:g} seq/s on {self.workers} worker(s), phase {self.phase}")

    def predicted_s(self) -> float:
        """The logged run's own wall time as the plan's arithmetic gives it (FLOPs / rate)."""
        return self.updates * self.global_batch / self.seq_s

    def check_line(self) -> str:
        error = self.predicted_s() / self.measured_s - 1
        return (f"--from-log check: phase {self.phase}, {self.updates} updates of {self.global_batch} on "
                f"{self.workers} worker(s): predicted {self.predicted_s():.1f} s, measured {self.measured_s:.1f} s "
                f"(first to last record), error {error:+.1%}")


def main(args: argparse.Namespace, cfg: Any) -> int:
    from norlm.hpc.plan_format import compare_table, format_plan, plan_json

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
        raise RenderError(str(exc).strip(chr(39))) from exc
    if args.json:
        print(json.dumps(plan_json(profile, plans, out, measured), indent=1))
    else:
        print(format_plan(cfg, profile, plans, out, measured, corpus_size(cfg, args.corpus_gb)))
    return 0
