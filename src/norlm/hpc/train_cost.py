"""GPU training stages in `norlm plan`: BERT phases and ELMo, time = FLOPs / (GPUs x per-GPU TFLOP/s).

BERT: FLOPs per sequence (norlm.hpc.throughput) x global batch x updates; ELMo: FLOPs per token
(norlm.hpc.elmo_cost) x 2 B T x GPUs x updates.  The per-GPU figure is labelled, or a real run's
(`--from-log`).  Standard library only.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from norlm.config import REPO_ROOT
from norlm.hpc.elmo_cost import elmo_throughput_for, elmo_train_hours, parameters
from norlm.hpc.estimate import Corpus, StagePlan, chain_note, jobs_needed
from norlm.hpc.jobs import Job
from norlm.hpc.profile import ClusterProfile
from norlm.hpc.throughput import Throughput, flops_per_sequence, throughput_for


def bert_model(cfg: Any) -> dict[str, int]:
    """Sizes from the model JSON; a vocab_size of 0 (taken from vocab.txt at training time) is [vocab] size."""
    path = Path(cfg.bert.model_config)
    path = path if path.is_absolute() else REPO_ROOT / path
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"layers": data["num_hidden_layers"], "hidden": data["hidden_size"],
            "intermediate": data["intermediate_size"], "vocab": data["vocab_size"] or cfg.vocab.size}


def bert_parameters(cfg: Any) -> int:
    m = bert_model(cfg)
    h, i = m["hidden"], m["intermediate"]
    return (m["vocab"] + 512 + 2) * h + m["layers"] * (4 * h * h + 2 * h * i + 9 * h + i) + 2 * h * h + m["vocab"]


def phase_shape(cfg: Any, phase: int) -> tuple[int, int, int]:
    """(sequence length, predictions per sequence, updates) of one BERT phase."""
    data = getattr(cfg.bert_data, f"phase{phase}")
    steps = getattr(cfg.bert, f"phase{phase}").train_steps
    if phase == 2 and cfg.bert.phase2_mode == "continue":  # phase 2 continues phase 1's step counter
        steps -= cfg.bert.phase1.train_steps
    return data.max_seq_length, data.max_predictions_per_seq, steps


def sequence_flops(cfg: Any, phase: int) -> float:
    seq_len, predictions, _ = phase_shape(cfg, phase)
    return flops_per_sequence(**bert_model(cfg), seq_len=seq_len, predictions=predictions)


def _billing(profile: ClusterProfile, gpu_hours: float) -> float:
    return gpu_hours * profile.billing.per_gpu_hour if profile.billing else 0.0


def bert_train(cfg: Any, job: Job, profile: ClusterProfile, measured: Throughput | None) -> StagePlan:
    from norlm.hpc.batch import bert_batch

    batch = bert_batch(cfg, job)
    part = profile.partition(job.partition)
    figure = measured or throughput_for(part.gpu_model, cfg.bert.precision)
    seq_len, _, steps = phase_shape(cfg, job.phase)
    flops = sequence_flops(cfg, job.phase) * batch.global_batch * steps
    tflops = figure.at(seq_len)
    hours = flops / (job.gpus * tflops * 1e12) / 3600
    jobs = jobs_needed(job, hours)
    # checkpoints kept: weights + LAMB's two moments, float32
    disk = cfg.bert.keep_checkpoints * bert_parameters(cfg) * 4 * 3 / 1e9
    return StagePlan(job, hours=hours, rate=f"{tflops:.2f} TFLOP/s per GPU", basis=f"{figure.label}: {figure.source}",
                     flops=flops, tflops_per_gpu=tflops, gpu_hours=hours * job.gpus,
                     jobs=jobs,
                     billing=_billing(profile, hours * job.gpus), disk_gb=disk, notes=chain_note(job, jobs))


def elmo_train(cfg: Any, job: Job, profile: ClusterProfile, corpus: Corpus) -> StagePlan:
    ec = cfg.elmo
    figure = elmo_throughput_for(profile.partition(job.partition).gpu_model)
    words = ec.n_train_tokens or int(corpus.words)
    flops, hours, steps = elmo_train_hours(ec, words, job.gpus, figure.tflops)
    jobs = jobs_needed(job, hours)
    disk = ec.keep_checkpoints * parameters(ec) * 4 * 2 / 1e9  # weights + Adagrad accumulators
    return StagePlan(job, hours=hours, rate=f"{figure.tflops:.2f} TFLOP/s per GPU",
                     basis=f"{figure.label}: {figure.source}; {steps:,} updates of {words:,.0f} words",
                     flops=flops, tflops_per_gpu=figure.tflops, gpu_hours=hours * job.gpus,
                     jobs=jobs,
                     billing=_billing(profile, hours * job.gpus), disk_gb=disk, notes=chain_note(job, jobs))
