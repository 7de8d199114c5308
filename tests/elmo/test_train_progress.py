"""elmo-train's progress: DLLogger lines every log_every steps and at the end, throughput after tracing."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from norlm.dllogger import read_dllog, training_points
from norlm.elmo.train_progress import TRACING_STEPS, Progress


def _plan(total_steps: int = 7):
    return SimpleNamespace(total_steps=total_steps, per_epoch=3, tokens_per_step=100)


def test_log_lines_and_steady_throughput(tmp_path):
    progress = Progress(tmp_path, _plan(), start_step=0, log_every=3, show_bar=False)
    losses = [math.log(10.0 * (k + 1)) for k in range(7)]
    for k, loss in enumerate(losses):
        step = k + 1
        progress.update(step, loss, seconds=0.5 if step > TRACING_STEPS else 9.0)
        progress.log_if_due(step, loss, norm=2.0)
    assert progress.steady_throughput() == pytest.approx(100 / 0.5)  # the two tracing steps left out
    progress.close(completed=True)
    records = read_dllog(tmp_path / "dllog.json")
    points = {p["step"]: p["data"] for p in training_points(records)}
    assert sorted(points) == [3, 6, 7]  # every log_every steps and the last
    assert points[3]["train_perplexity"] == pytest.approx(math.exp(sum(losses[:3]) / 3))
    assert points[6]["train_perplexity"] == pytest.approx(math.exp(sum(losses[3:6]) / 3))
    assert points[7]["loss"] == losses[6] and points[7]["grad_norm"] == 2.0
    assert [points[s]["epoch"] for s in (3, 6, 7)] == [1, 2, 3]
    final = [r for r in records if r.get("step") == []]
    assert final[-1]["data"] == {"throughput_train": pytest.approx(200.0)}


def test_an_interrupted_run_appends_and_ends_without_a_throughput_line(tmp_path):
    Progress(tmp_path, _plan(), start_step=0, log_every=1, show_bar=False).close(completed=False)
    progress = Progress(tmp_path, _plan(), start_step=4, log_every=1, show_bar=False)
    for step in (5, 6):
        progress.update(step, 1.0, seconds=1.0)
    assert progress.steady_throughput() is None  # both steps after the restart trace
    progress.log_if_due(6, 1.0, norm=1.0)
    progress.close(completed=False)
    records = read_dllog(tmp_path / "dllog.json")
    assert [p["step"] for p in training_points(records)] == [6]
    assert not [r for r in records if r.get("step") == []]
