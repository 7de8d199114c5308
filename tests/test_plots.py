"""Figure-1 style loss plots from DLLogger files in the published NVIDIA/NorBERT format."""
from __future__ import annotations

import json

import pytest

from norlm.plots import load_points, plot_epochs, plot_losses, time_unit
from tests.conftest import run_norlm

META = [
    {"timestamp": "1608584400.0", "elapsedtime": "0.0001", "datetime": "2020-12-21 22:00:00.000102",
     "type": "METADATA", "metric": "mlm_loss", "metadata": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "TRAIN"}},
    {"timestamp": "1608584400.0", "elapsedtime": "0.0002", "datetime": "2020-12-21 22:00:00.000204",
     "type": "METADATA", "metric": "throughput_train",
     "metadata": {"unit": "seq/s", "format": ":.4f", "GOAL": "MAXIMIZE", "STAGE": "TRAIN"}},
]


def _published_style_log(path, start_hour=22, steps=30, pause_after=15):
    """A synthetic file exactly in the published format: DLLL prefix, metadata first, string
    timestamps, datetimes with and without microseconds, a pause, and the final `step: []` line."""
    lines = ["DLLL " + json.dumps(m) for m in META]
    minute = 0
    for i in range(1, steps + 1):
        minute += 1 if i != pause_after + 1 else 60 * 24 * 2  # a two-day pause
        day, rem = divmod(start_hour * 60 + minute, 60 * 24)
        hour, mins = divmod(rem, 60)
        micro = "" if i % 3 == 0 else f".{i:06d}"  # str(datetime) omits .ffffff when it is 0
        lines.append("DLLL " + json.dumps({
            "timestamp": f"{1608584400 + minute * 60}.5", "datetime": f"2020-12-{21 + day:02d} {hour:02d}:{mins:02d}:00{micro}",
            "elapsedtime": str(minute * 60.0), "type": "LOG", "step": i * 10,
            "data": {"throughput_train": 640.1, "mlm_loss": 10.0 - i * 0.25, "nsp_loss": 0.7 - i * 0.01,
                     "total_loss": 10.7 - i * 0.26, "avg_loss_step": 10.8 - i * 0.26, "learning_rate": "1e-05"}}))
    lines.append("DLLL " + json.dumps({"timestamp": "1608900000.0", "datetime": "2020-12-25 10:00:00.5",
                                       "elapsedtime": "99999", "type": "LOG", "step": [],
                                       "data": {"throughput_train": 641.0}}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reads_published_format(tmp_path):
    log = _published_style_log(tmp_path / "bert_phase1_log.json")
    points = load_points([log])
    assert len(points) == 30  # metadata and the summary line with an empty step are skipped
    assert points[0]["step"] == 10 and points[0]["mlm_loss"] == pytest.approx(9.75)
    assert points[2]["time"].microsecond == 0 and points[0]["time"].microsecond == 1
    assert (points[15]["time"] - points[14]["time"]).days == 2


def test_plot_time_and_step_axes(tmp_path):
    logs = [_published_style_log(tmp_path / "p1.json"), _published_style_log(tmp_path / "p2.json", start_hour=1)]
    out = plot_losses(logs, tmp_path / "fig1.png", x="time")
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    out2 = run_norlm("plot-log", str(logs[0]), "--x", "step", "--out", str(tmp_path / "steps.png")).stdout
    assert "30 points from 1 file(s)" in out2 and (tmp_path / "steps.png").exists()


def test_plot_refuses_a_file_without_losses(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("DLLL " + json.dumps(META[0]) + "\n")
    proc = run_norlm("plot-log", str(bad), check=False)
    assert proc.returncode == 1 and "no training lines" in proc.stdout


def test_epoch_curves(tmp_path):
    hist = {"BERT (this run)": [{"epoch": e, "train_loss": 1.0 / e, "dev": 0.5 + e / 10} for e in range(1, 4)],
            "no pretraining (random-init BERT)": [{"epoch": e, "train_loss": 2.0 / e, "dev": 0.3 + e / 20}
                                                  for e in range(1, 4)]}
    out = plot_epochs(hist, tmp_path / "fig2.png", ylabel="dev macro F1", title="Sentiment: dev score per epoch")
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize("seconds, unit", [(65, "s"), (180, "s"), (181, "min"), (2.5 * 3600, "min"),
                                           (30 * 3600, "h"), (3 * 86400 + 1, "days"), (21 * 86400, "days")])
def test_time_unit_follows_the_run_length(seconds, unit):
    """A demo run reads in seconds, a 3-week cluster log in days: 2 to 10 round ticks at any length."""
    assert time_unit(seconds)[0] == unit
    assert 2 <= seconds / time_unit(seconds)[1] <= 180
