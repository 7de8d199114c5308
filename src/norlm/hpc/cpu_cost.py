"""CPU stages in `norlm plan`: time, core-hours, memory per worker and disk from the per-core rates
of norlm.scale_rates (measured by bench/scale.py), on the workers the rendered job has.

Wall time = CPU seconds / workers (MPI ranks x array tasks; one process for a non-MPI stage),
assuming a cluster core is as fast as the core the rate was measured on and perfect scaling over
ranks.  bert-data grows with the dupe factor and, per input byte, with (3 L + 3 P) / L (the
record's int64 features per token of text); a phase without its own measured rate is derived from
the other phase by that ratio.  Standard library only.
"""
from __future__ import annotations

import math
import re
from typing import Any

from norlm.hpc.estimate import Corpus, StagePlan, chain_note, jobs_needed
from norlm.hpc.jobs import Job
from norlm.scale_rates import RATES_FILE, StageRate

# the paper's corpus: 202,802,665 sentences in about 12 GB of text (scale spec section 1)
SENTENCES_PER_BYTE = 202_802_665 / 12e9
DEMO_SHAPE = {1: (128, 20), 2: (256, 40)}  # configs/demo.toml, the settings the rates file was measured at


def workers(job: Job) -> int:
    return job.array * job.nodes * job.tasks_per_node if job.mpi else 1


def cores(job: Job) -> int:
    return job.array * job.nodes * job.tasks_per_node * job.cpus_per_task


def _bytes_per_token(seq_len: int, predictions: int) -> float:
    return (3 * seq_len + 3 * predictions) / seq_len


def bert_data_rate(rates: dict[str, StageRate], cfg: Any, phase: int) -> tuple[StageRate, float, str]:
    """(measured rate, factor on its time and output for this config's phase, basis)."""
    target = getattr(cfg.bert_data, f"phase{phase}")
    own = rates.get(f"bert-data-phase{phase}")
    rate = own or rates.get(f"bert-data-phase{3 - phase}")
    if rate is None:
        raise KeyError(f"{RATES_FILE}: no per-core rate for bert-data (bench/scale.py measures it)")
    from_phase = phase if own else 3 - phase
    extra = rate.extra or {}
    shape = (int(extra.get("max_seq_length", DEMO_SHAPE[from_phase][0])),
             int(extra.get("max_predictions_per_seq", DEMO_SHAPE[from_phase][1])))
    dupe = rate.dupe_factor or target.dupe_factor
    factor = (target.dupe_factor / dupe) * (_bytes_per_token(target.max_seq_length, target.max_predictions_per_seq)
                                           / _bytes_per_token(*shape))
    basis = rate.basis if own else f"derived from phase {from_phase} ({rate.basis}) by dupe and (3L+3P)/L"
    return rate, factor, f"{basis}; measured at {shape[0]}/{shape[1]}, dupe {dupe}"


def _growth(rate: StageRate) -> float:
    """Peak-memory factor per 10x input, from the rates file's "memory_grows" note (1.0 if absent)."""
    match = re.match(r"\s*([0-9.]+)x", str((rate.extra or {}).get("memory_grows", "")))
    return float(match.group(1)) if match else 1.0


def peak_gb(rate: StageRate, input_bytes: float, measured_mb: float) -> float:
    """Peak RSS of one worker reading `input_bytes`, extrapolated by the measured growth per 10x input."""
    ratio = input_bytes / 1e6 / measured_mb if measured_mb else 1.0
    grow = _growth(rate) ** math.log10(ratio) if ratio > 1 else 1.0
    return rate.peak_rss_mb * grow / 1e3


def segmenter_cost(rate: StageRate, segmenter: str, text_bytes: float) -> tuple[float, str]:
    """CPU seconds the config's segmenter adds over the one the corpus rate was measured with, from the
    segmenters' sentences per CPU second measured side by side (bench/stanza_segmenter.py)."""
    extra = rate.extra or {}
    measured_with = extra.get("segmenter", "punkt")
    if segmenter == measured_with:
        return 0.0, f"segmenter {segmenter}, as measured"
    rows = (extra.get("segmentation") or {}).get("rows", {})
    speed = {name.split()[0]: row.get("sentences_per_cpu_s", 0.0) for name, row in rows.items()}
    if not speed.get(segmenter) or not speed.get(measured_with):
        return 0.0, (f"rate measured with the {measured_with} segmenter; this config uses {segmenter} "
                     "(not measured: expect it slower)")
    sentences = text_bytes * SENTENCES_PER_BYTE
    seconds = sentences * (1 / speed[segmenter] - 1 / speed[measured_with])
    return seconds, (f"{segmenter} segmentation adds {seconds / 3600:,.0f} core-hours ({speed[segmenter]:,.0f} "
                     f"against {speed[measured_with]:,.0f} sentences/CPU-s measured here, the paper's sentences per byte)")


def cpu_stage(job: Job, rates: dict[str, StageRate], cfg: Any, corpus: Corpus, measured_mb: float) -> StagePlan:
    """The estimate of corpus, vocab, bert-data (a phase) or elmo-vocab on `job`'s workers."""
    if job.stage == "bert-data":
        rate, factor, basis = bert_data_rate(rates, cfg, job.phase)
    elif job.stage in rates:
        rate, factor, basis = rates[job.stage], 1.0, rates[job.stage].basis
    else:
        raise KeyError(f"{RATES_FILE}: no per-core rate for stage '{job.stage}' (bench/scale.py measures it)")
    cpu_s = rate.cpu_seconds(corpus.bytes) * factor
    n = workers(job)
    hours = cpu_s / n / 3600
    jobs = jobs_needed(job, hours)
    mem = peak_gb(rate, corpus.bytes / n, measured_mb)
    notes = list(chain_note(job, jobs)) if job.chain else []
    if jobs > 1 and job.mpi:
        need = StagePlan(job, hours=hours).nodes_to_fit
        notes.append(f"over its time limit {job.time}: {need} node(s) of {job.tasks_per_node} ranks would fit")
    elif jobs > 1:
        notes.append(f"one process, over its time limit {job.time}: raise [hpc.{job.stage.replace('-', '_')}] time")
    if job.stage == "corpus":
        extra_s, note = segmenter_cost(rate, cfg.corpus.segmenter, corpus.bytes)
        hours += extra_s / n / 3600
        jobs = jobs_needed(job, hours)
        notes.append(note)
    have = job.mem_per_cpu_gb * job.cpus_per_task
    if mem > have:
        notes.append(f"peak memory {mem:,.1f} GB per worker over the {have} GB the job gives each")
    return StagePlan(job, hours=hours, rate=f"{rate.mb_per_cpu_s / factor:.2f} MB/CPU-s x {n}",
                     basis=f"{basis} (a core here = a core there)", core_hours=hours * cores(job),
                     jobs=jobs, disk_gb=rate.output_bytes(corpus.bytes) * factor / 1e9, mem_gb=mem,
                     notes=tuple(notes))
