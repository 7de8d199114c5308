"""Export and evaluation in `norlm plan`: the demo run's measured times (logs/demo/timings.tsv),
scaled by their work.

Exports: the demo's time x the parameter ratio (start-up included, so an upper bound).
Evaluation (coarse): the demo's time x fine-tuning work ratio (train sentences x languages x
epochs x seeds x FLOPs per token of each BERT-type model; one forward pass for frozen and ELMo
models) x the speed ratio of the demo machine (its BERT phase-1 throughput, logs/demo) to the
evaluation GPU; plus the graph tasks' parser: its measured time per epoch of a full train set on
this machine x epochs x seeds x models, over an assumed GPU speed-up.  Standard library only.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from norlm.config import REPO_ROOT
from norlm.hpc.elmo_cost import config_flops_per_token, parameters
from norlm.hpc.estimate import StagePlan, jobs_needed
from norlm.hpc.jobs import Job
from norlm.hpc.profile import ClusterProfile
from norlm.hpc.throughput import throughput_for
from norlm.hpc.train_cost import bert_parameters, sequence_flops

DEMO_LOGS = REPO_ROOT / "logs" / "demo"
# whole train splits where a config takes all of them (logs/demo/report.md): UD 2.7 / NorNE (NDT) Bokmål
# train 15,696 sentences (Nynorsk 14,174), NoReC_sentence binary train 2,675; NoReC_fine 8,634, NoReC_neg 8,543
FULL_TRAIN = {"pos": 15_696, "ner": 15_696, "sentiment": 2_675}
GRAPH_TRAIN = {"finegrained": 8_634, "negation": 8_543}
# the graph parser: 4,224 s for 8 epochs of each graph task, full data, the paper's parser, no LM, on this
# 2-core machine (bench/RESULTS.md, logs/graph-hour/); on a GPU node assumed 10x faster
GRAPH_TASK_EPOCH_S = 4224 / 16
GRAPH_SPEEDUP = 10.0
BERT_TUNED, BERT_FROZEN, ELMO_MODELS = {"bert", "baseline"}, {"bert-frozen", "baseline-frozen"}, {"elmo", "elmo-random"}


@lru_cache(maxsize=1)
def demo_timings() -> dict[str, float]:
    """Seconds per stage of the committed demo run (the two BERT phases summed)."""
    out: dict[str, float] = {}
    for line in (DEMO_LOGS / "timings.tsv").read_text(encoding="utf-8").splitlines():
        stage, _, seconds = line.split("\t")
        out[stage] = out.get(stage, 0.0) + float(seconds)
    return out


@lru_cache(maxsize=1)
def demo_config():
    from norlm.config import load_config

    return load_config(REPO_ROOT / "configs" / "demo.toml")


@lru_cache(maxsize=1)
def demo_tflops() -> float:
    """Effective TFLOP/s of the demo machine: its BERT phase-1 steady throughput x the model's FLOPs."""
    last = None
    for line in (DEMO_LOGS / "bert_phase1_dllog.json").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line[5:]) if line.startswith("DLLL ") else {}
        if rec.get("type") == "LOG" and "throughput_train" in rec.get("data", {}):
            last = float(rec["data"]["throughput_train"])
    return last * sequence_flops(demo_config(), 1) / 1e12


def runs(cfg: Any) -> set[str]:
    """The model families a config trains: "bert" with a [bert] or [bert_data] table, "elmo" with [elmo]."""
    from norlm.compat import tomllib

    from norlm.layout import repo_path

    with open(repo_path(cfg.source), "rb") as fh:
        data = tomllib.load(fh)
    return {name for name, keys in (("bert", ("bert", "bert_data")), ("elmo", ("elmo",))) if any(k in data for k in keys)}


def _work(cfg: Any) -> float:
    ev, families = cfg.evaluate, runs(cfg)
    models = set(ev.models) | set(ev.graph.models)
    per_token = 0.0
    if "bert" in families:
        bert = sequence_flops(cfg, 1) / cfg.bert_data.phase1.max_seq_length
        per_token += len(models & BERT_TUNED) * ev.bert.epochs * ev.seeds * bert + len(models & BERT_FROZEN) * bert / 3
    if "elmo" in families:
        per_token += len(models & ELMO_MODELS) * config_flops_per_token(cfg.elmo) / 3
    sentences = sum((ev.train_sentences.get(t) or FULL_TRAIN[t]) * (len(ev.langs) if t != "sentiment" else 1)
                    for t in FULL_TRAIN if t in ev.tasks)
    return sentences * per_token


def graph_task_epochs(cfg: Any) -> float:
    """Parser epochs over the full graph-task train sets: models x seeds x epochs x tasks (scaled by subsets)."""
    ev, families = cfg.evaluate, runs(cfg) | {"none"}
    kinds = {"bert": "bert", "baseline": "bert", "elmo": "elmo", "elmo-random": "elmo", "none": "none"}
    models = [m for m in ev.graph.models if kinds.get(m, "bert") in families]
    seeds = ev.graph.n_seeds or ev.seeds
    share = sum(min(1.0, (ev.graph.train_sentences or n) / n) for t, n in GRAPH_TRAIN.items() if t in ev.tasks)
    return len(models) * seeds * ev.graph.epochs * share


def evaluate(cfg: Any, job: Job, profile: ClusterProfile) -> StagePlan:
    gpu = profile.partition(job.partition).gpu_model
    figure = throughput_for(gpu, "fp32")
    seconds = demo_timings()["evaluate"] * _work(cfg) / _work(demo_config()) * demo_tflops() / figure.at(128)
    graph = graph_task_epochs(cfg)
    seconds += graph * GRAPH_TASK_EPOCH_S / GRAPH_SPEEDUP
    hours = seconds / 3600
    gpus, jobs = max(1, job.gpus), jobs_needed(job, hours)
    return StagePlan(job, hours=hours, rate=f"{figure.at(128):.2f} TFLOP/s per GPU",
                     basis=f"coarse: demo evaluate {demo_timings()['evaluate']:.0f} s (measured here) x work ratio x "
                           f"speed ratio ({demo_tflops():.3f} TFLOP/s demo CPU vs {gpu} {figure.label}); graph "
                           f"parser {graph:,.0f} task-epochs x {GRAPH_TASK_EPOCH_S:.0f} s (measured here, 2 cores) / "
                           f"{GRAPH_SPEEDUP:g} (assumed GPU speed-up)", gpu_hours=hours * gpus, jobs=jobs,
                     notes=_over(job, jobs),
                     billing=hours * gpus * profile.billing.per_gpu_hour if profile.billing else 0.0)


def _over(job: Job, jobs: int) -> tuple[str, ...]:
    if jobs <= 1:
        return ()
    return (f"over its time limit {job.time} ({jobs} jobs' worth): raise [hpc.{job.stage.replace('-', '_')}] time "
            "(up to the partition's limit) or run the tasks as separate jobs",)


def export(cfg: Any, job: Job) -> StagePlan:
    demo = demo_config()
    if job.stage == "bert-export":
        params, demo_params = bert_parameters(cfg), bert_parameters(demo)
    else:
        params, demo_params = parameters(cfg.elmo), parameters(demo.elmo)
    demo_s = demo_timings()[job.stage]
    hours = demo_s * params / demo_params / 3600
    return StagePlan(job, hours=hours, rate=f"{params / 1e6:,.1f} M parameters",
                     basis=f"demo {job.stage} {demo_s:.1f} s (measured here) x parameter ratio {params / demo_params:,.0f}",
                     core_hours=hours * job.cpus_per_task, jobs=jobs_needed(job, hours),
                     disk_gb=2 * params * 4 / 1e9, notes=_over(job, jobs_needed(job, hours)))

