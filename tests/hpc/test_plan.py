"""`norlm plan`, BERT training: the arithmetic against a hand computation, NorBERT-1 on Saga's P100s
against the published ~7,200 GPU-hours, and the other clusters' figures printed with their assumptions."""
from __future__ import annotations

import json
import math

import pytest

from norlm.config import load_config
from norlm.hpc.plan import plan
from norlm.hpc.profile import load_profile
from norlm.hpc.throughput import flops_per_sequence
from norlm.scale_rates import load_rates

from tests.conftest import REPO, run_norlm
from tests.hpc.rendered import NORBERT1

# BERT-base of configs/bert/norbert1.json: 12 layers, H 768, I 3072, V 32922.  Per token and layer
# 4 H^2 + 2 H I + 2 T H multiply-adds; the MLM head H^2 + H V on the masked positions; x 2 x 3.
PER_TOKEN_128 = 12 * (4 * 768 * 768 + 2 * 768 * 3072 + 2 * 128 * 768)  # 87,293,952
SEQ_128 = 6 * (128 * PER_TOKEN_128 + 20 * (768 * 768 + 768 * 32922))
PER_TOKEN_512 = 12 * (4 * 768 * 768 + 2 * 768 * 3072 + 2 * 512 * 768)
SEQ_512 = 6 * (512 * PER_TOKEN_512 + 77 * (768 * 768 + 768 * 32922))
# the published NorBERT-1 run: 768 x 795,000 updates at 128, then 128 x (1,325,000 - 795,000) at 512
PHASE1_FLOP = SEQ_128 * 768 * 795_000
PHASE2_FLOP = SEQ_512 * 128 * 530_000


def test_flop_count_by_hand():
    assert PER_TOKEN_128 == 87_293_952
    assert SEQ_128 == 70_146_625_536 and SEQ_512 == 301_864_043_520
    assert flops_per_sequence(12, 768, 3072, 32922, 128, 20) == SEQ_128
    assert flops_per_sequence(12, 768, 3072, 32922, 512, 77) == SEQ_512


def test_norbert1_on_saga_accel_is_the_published_scale():
    cfg = load_config(NORBERT1)
    p1, p2 = [p for p in plan(cfg, load_profile("saga")) if p.flops]
    assert (p1.job.label, p2.job.label) == ("bert-train-p1", "bert-train-p2")
    assert p1.flops == PHASE1_FLOP and p2.flops == PHASE2_FLOP
    # NorBERT-1's logs: 40 / 6.5 sequences per second per P100, i.e. (rounded to 3 decimals)
    # 40 x 70.15 GFLOP = 2.806 and 6.5 x 301.9 GFLOP = 1.962 TFLOP/s
    assert (p1.tflops_per_gpu, p2.tflops_per_gpu) == (2.806, 1.962)
    hours1 = PHASE1_FLOP / (16 * 2.806e12) / 3600
    hours2 = PHASE2_FLOP / (16 * 1.962e12) / 3600
    assert p1.hours == pytest.approx(hours1, rel=1e-12) and p2.hours == pytest.approx(hours2, rel=1e-12)
    assert (round(hours1, 1), round(hours2, 1)) == (265.0, 181.2)  # ~11 + ~7.5 days on 16 GPUs
    total = p1.gpu_hours + p2.gpu_hours
    assert total == pytest.approx(16 * (hours1 + hours2), rel=1e-12)
    # the same figure without FLOPs: 795,000 x 768 / 40 + 530,000 x 128 / 6.5 GPU-seconds
    assert total == pytest.approx((795_000 * 768 / 40 + 530_000 * 128 / 6.5) / 3600, rel=1e-3)
    assert round(total) == 7139 and abs(total - 7200) / 7200 < 0.20
    # a job runs 14 days minus the 15-minute SIGUSR1 margin: one job per phase suffices
    assert (p1.jobs, p2.jobs) == (1, 1) == (math.ceil(hours1 / (14 * 24 - 0.25)), 1)


def test_plan_cli_saga_table(tmp_path):
    out = run_norlm("plan", "--config", str(NORBERT1), "--cluster", "saga", work=tmp_path).stdout
    assert ("| bert-train-p1 | accel | 4 x 4 | 14-00:00:00 | 2.81 TFLOP/s per GPU | 265 h (11.0 days) | 1 | 4 | "
            "4,240 | 0 | ") in out
    assert ("| bert-train-p2 | accel | 4 x 4 | 14-00:00:00 | 1.96 TFLOP/s per GPU | 181 h (7.6 days) | 1 | 3 | "
            "2,899 | 0 | ") in out
    assert ("  bert-train-p1: measured elsewhere: NorBERT-1 logs on Saga: 40 / 6.5 seq/s per P100 "
            "(bert-recipe §3.4)") in out
    corpus_rate = load_rates()["corpus"].mb_per_cpu_s  # 20 tasks of [hpc.corpus], one worker each
    assert f"| corpus | normal | 1 (CPU) | 1-00:00:00 | {corpus_rate:.2f} MB/CPU-s x 20 |" in out
    assert "not estimated" not in out
    data = json.loads(run_norlm("plan", "--config", str(NORBERT1), "--cluster", "saga", "--json", work=tmp_path).stdout)
    training = sum(s["gpu_hours"] for s in data["stages"] if s["stage"].startswith("bert-train"))
    assert round(training) == 7139


@pytest.mark.parametrize("cluster, extra, gpu_line, shape", [
    ("olivia", [], "bert-train-p1: assumed: 494 TFLOP/s peak x 35% MFU (H100-class TF32 dense peak)",
     ("accel", 4, 4, 172.9)),
    ("roihu", [], "bert-train-p1: assumed: 494 TFLOP/s peak x 35% MFU", ("gpularge", 4, 4, 172.9)),
    ("lumi", [], "bert-train-p1: assumed: 47.9 TFLOP/s peak x 30% MFU (AMD MI250X FP32 matrix peak / 2 GCDs)",
     ("standard-g", 2, 8, 14.37)),
    ("saga", ["hpc.bert_train.partition=a100"], "bert-train-p1: measured elsewhere: NVIDIA TF1 BERT README, DGX A100",
     ("a100", 4, 4, None)),
])
def test_other_clusters_print_their_assumptions(tmp_path, cluster, extra, gpu_line, shape):
    out = run_norlm("plan", "--config", str(NORBERT1), "--cluster", cluster, *extra, work=tmp_path).stdout
    assert gpu_line in out
    partition, nodes, per_node, tflops = shape
    assert f"| bert-train-p1 | {partition} | {nodes} x {per_node} |" in out
    data = json.loads(run_norlm("plan", "--config", str(NORBERT1), "--cluster", cluster, "--json", *extra,
                                work=tmp_path).stdout)
    p1 = [s for s in data["stages"] if s["stage"] == "bert-train-p1"][0]
    assert p1["gpus"] == 16 and p1["flops"] == PHASE1_FLOP
    if tflops:  # peak x MFU: the same figure at both lengths, so the hours follow from the FLOPs alone
        assert p1["hours"] == pytest.approx(PHASE1_FLOP / (16 * tflops * 1e12) / 3600, rel=1e-12)
    if cluster == "lumi":  # 0.5 LUMI GPU-hours per GCD-hour
        assert p1["billing"] == pytest.approx(p1["gpu_hours"] * 0.5)
        assert "Billing: 0.5 LUMI GPU-hours per GPU-hour" in out


def test_plan_refuses_puhti(tmp_path):
    proc = run_norlm("plan", "--config", str(NORBERT1), "--cluster", "puhti", work=tmp_path, check=False)
    assert proc.returncode == 2 and "Puhti was retired on 2026-07-31; use CLUSTER=roihu" in proc.stderr


def test_plan_refuses_a_profile_without_gpu_figures(tmp_path):
    proc = run_norlm("plan", "--config", str(REPO / "configs" / "demo.toml"), "--cluster", "local", work=tmp_path,
                     check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no throughput figure for GPU model '' (known: A100, GH200, MI250X-GCD, P100, V100) (cluster profile local)" \
        in proc.stderr
