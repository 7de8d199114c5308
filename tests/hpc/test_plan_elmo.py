"""`norlm plan` for ELMo: the FLOP count by hand (the one bench/elmo_train.py uses), the update count
elmo-train uses, the paper anchor reproduced, and the cross-anchor check printed with its error."""
from __future__ import annotations

import importlib.util
import json
from dataclasses import replace

import pytest

from norlm.config import load_config
from norlm.elmo.options import options_from_config
from norlm.hpc.elmo_cost import SET6, config_flops_per_token, cross_anchor, elmo_throughput_for, plan_steps
from norlm.hpc.estimate import PAPER_WORDS
from norlm.hpc.plan import plan
from norlm.hpc.profile import load_profile

from tests.conftest import REPO, run_norlm

try:  # elmo-train's own count (train_plan.py since the elmo/train.py split)
    from norlm.elmo.train_plan import plan_steps as elmo_plan_steps
except ImportError:
    from norlm.elmo.train import plan_steps as elmo_plan_steps

NORELMO30 = REPO / "configs" / "norelmo30.toml"
# NorELMo30 per token, multiply-adds: char CNN sum over filters (50 - w + 1) w 16 n = 8,808,448; two
# highway layers 2 x 2 x 2048^2; projection 2048 x 512; two LSTMP layers (2 x 512 x 4 x 2048 + 2048 x 512);
# sampled softmax (4096 + 1) x 512.  x 2 (FLOPs) x 3 (forward + backward)
MACS = 8_808_448 + 2 * 2 * 2048 * 2048 + 2048 * 512 + 2 * (2 * 512 * 4 * 2048 + 2048 * 512) + 4097 * 512


def test_flops_per_token_by_hand_and_in_the_bench():
    cfg = load_config(NORELMO30)
    assert config_flops_per_token(cfg.elmo) == 6 * MACS == 285_637_632
    spec = importlib.util.spec_from_file_location("elmo_bench", REPO / "bench" / "elmo_train.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    options = options_from_config(cfg.elmo, 30_003, 10**9)
    assert bench.model_flops_per_token(options, cfg.elmo.n_negative_samples) == 6 * MACS


@pytest.mark.parametrize("world", [1, 2, 4])
def test_update_count_is_elmo_trains(world):
    ec = load_config(NORELMO30).elmo
    assert plan_steps(ec, PAPER_WORDS, world) == elmo_plan_steps(ec, PAPER_WORDS, world)[1]
    capped = replace(ec, max_steps=900)
    assert plan_steps(capped, PAPER_WORDS, world) == elmo_plan_steps(capped, PAPER_WORDS, world)[1] == 900


def test_paper_anchor_reproduced_on_four_p100():
    """The P100 figure is the paper's run: on 4 Saga P100s the plan gives its ~100 hours back."""
    cfg = load_config(NORELMO30, ["hpc.elmo_train.gpus=4"])
    train = [p for p in plan(cfg, load_profile("saga")) if p.label == "elmo-train"][0]
    assert train.job.gpus == 4 and train.hours == pytest.approx(100.0, rel=1e-3)
    assert elmo_throughput_for("P100").label == "measured elsewhere"


def test_cross_anchor_printed(tmp_path):
    check = cross_anchor()
    # SET #6 by hand: 100 batches x 384 x 20 x 2 directions per A100 at the P100 rate x 19.5 / 9.3
    p100 = 3 * PAPER_WORDS * 2 * 6 * MACS / (100 * 3600 * 4)
    predicted = 100 * 384 * 20 * 2 * 6 * MACS / (p100 * 19.5 / 9.3)
    assert check.predicted_s == pytest.approx(predicted, rel=1e-12) and check.measured_s == SET6["seconds_per_100"]
    assert -0.35 < check.error < -0.25  # the paper's P100 run was relatively faster than SET #6 on A100
    out = run_norlm("plan", "--config", str(NORELMO30), "--cluster", "olivia", work=tmp_path).stdout
    assert (f"predicts simple_elmo_training #6 (2 A100) at {predicted:.1f} s per 100 batches; measured 134.1 s, "
            f"error {check.error:+.1%}") in out
    assert "bert-train" not in out and "not estimated" not in out
    data = json.loads(run_norlm("plan", "--config", str(NORELMO30), "--cluster", "olivia", "--json",
                                work=tmp_path).stdout)
    train = [s for s in data["stages"] if s["stage"] == "elmo-train"][0]
    assert train["gpus"] == 2 and train["basis"].startswith("assumed: A100 figure of simple_elmo_training #6")
