"""Learning-rate schedule: warm-up, (1 - s/T)^0.5 decay, and the phase-2 jump of a continued run."""
from __future__ import annotations

import math

import pytest

from norlm.bert.train.schedule import learning_rate, learning_rate_value


@pytest.mark.parametrize("step,expected", [
    (0, 0.0), (1, 1e-6), (50, 5e-5), (99, 9.9e-5),          # warm-up: init_lr * s / W
    (100, 1e-4 * math.sqrt(1 - 100 / 795000)),              # first decayed step
    (397500, 1e-4 * math.sqrt(0.5)),
    (795000, 0.0), (900000, 0.0),                            # end of decay and beyond
])
def test_norbert_phase1_values(step, expected):
    assert learning_rate_value(step, 1e-4, 795000, 100) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert float(learning_rate(step, 1e-4, 795000, 100)) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_phase2_jump_when_continuing():
    end_phase1 = learning_rate_value(794999, 1e-4, 795000, 100)
    start_phase2 = learning_rate_value(795000, 1e-4, 1325000, 100)
    assert end_phase1 < 2e-7
    assert start_phase2 == pytest.approx(1e-4 * math.sqrt(1 - 795000 / 1325000))
    assert start_phase2 / 1e-4 == pytest.approx(0.632, abs=5e-4)  # NorBERT's restart at 0.632 x peak


def test_adam_schedule_meets_peak_at_end_of_warmup():
    assert learning_rate_value(100, 1e-3, 1000, 100, "adam") == pytest.approx(1e-3)
    assert learning_rate_value(550, 1e-3, 1000, 100, "adam") == pytest.approx(1e-3 / 0.9 * 0.45)
    assert float(learning_rate(550, 1e-3, 1000, 100, "adam")) == pytest.approx(1e-3 / 0.9 * 0.45, rel=1e-6)


def test_no_warmup():
    assert learning_rate_value(0, 2e-3, 10, 0) == pytest.approx(2e-3)
