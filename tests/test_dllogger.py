"""DLLogger JSON lines: our writer's exact layout, and the reader on ours and on NVIDIA/NorBERT-style files."""
from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

from norlm.dllogger import DLLogger, curve_points, parse_datetime, read_dllog, split_runs, training_points

# the shape of the published files (bert-recipe §2.9): metadata first, a datetime without microseconds,
# learning_rate as a string, and the final summary with an empty step
PUBLISHED = """\
DLLL {"timestamp": "1608591200.1", "elapsedtime": "0.0001", "datetime": "2020-12-21 23:53:20.100000", "type": "METADATA", "metric": "mlm_loss", "metadata": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "TRAIN"}}
DLLL {"timestamp": "1608591200.1", "elapsedtime": "0.0002", "datetime": "2020-12-21 23:53:20.100000", "type": "METADATA", "metric": "throughput_train", "metadata": {"unit": "seq/s", "format": ":.4f", "GOAL": "MAXIMIZE", "STAGE": "TRAIN"}}
DLLL {"timestamp": "1608591234.5", "datetime": "2020-12-21 23:53:54.500000", "elapsedtime": "95.2", "type": "LOG", "step": 10, "data": {"throughput_train": 640.1, "mlm_loss": 7.9, "nsp_loss": 0.69, "total_loss": 8.59, "avg_loss_step": 9.1, "learning_rate": "1e-05"}}
DLLL {"timestamp": "1608591244", "datetime": "2020-12-21 23:54:04", "elapsedtime": "105.0", "type": "LOG", "step": 20, "data": {"throughput_train": 650.0, "mlm_loss": 7.5, "nsp_loss": 0.68, "total_loss": 8.18, "avg_loss_step": 8.3, "learning_rate": "2e-05"}}
DLLL {"timestamp": "1608591300.0", "datetime": "2020-12-21 23:55:00.000001", "elapsedtime": "161.0", "type": "LOG", "step": [], "data": {"throughput_train": 655.5}}
"""


def test_reads_published_format_including_gzip(tmp_path):
    path = tmp_path / "bert_phase1_log.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(PUBLISHED)
    records = read_dllog(path)
    assert len(records) == 5
    assert [r["type"] for r in records] == ["METADATA", "METADATA", "LOG", "LOG", "LOG"]
    points = training_points(records)
    assert [p["step"] for p in points] == [10, 20]
    assert points[1]["time"] == dt.datetime(2020, 12, 21, 23, 54, 4)  # no microseconds in the file
    assert points[0]["time"] == dt.datetime(2020, 12, 21, 23, 53, 54, 500000)
    assert points[0]["data"]["learning_rate"] == "1e-05"
    assert records[-1]["step"] == [] and records[-1]["data"]["throughput_train"] == 655.5


def test_writer_layout_matches_nvidia(tmp_path):
    path = tmp_path / "dllog.json"
    with DLLogger(path) as log:
        log.log(10, {"throughput_train": 100.5, "mlm_loss": 7.25, "nsp_loss": 0.5, "total_loss": 7.75,
                     "avg_loss_step": 8.0, "learning_rate": "0.0001"})
        log.log([], {"throughput_train": 101.0})
    lines = path.read_text().splitlines()
    assert all(line.startswith("DLLL {") for line in lines)
    objs = [json.loads(line[5:]) for line in lines]
    meta = [o for o in objs if o["type"] == "METADATA"]
    assert list(meta[0]) == ["timestamp", "elapsedtime", "datetime", "type", "metric", "metadata"]
    assert {m["metric"] for m in meta} >= {"mlm_loss", "nsp_loss", "total_loss", "avg_loss_step", "throughput_train"}
    assert next(m for m in meta if m["metric"] == "throughput_train")["metadata"]["unit"] == "seq/s"
    log_line, final = objs[-2], objs[-1]
    assert list(log_line) == ["timestamp", "datetime", "elapsedtime", "type", "step", "data"]
    assert isinstance(log_line["timestamp"], str) and float(log_line["timestamp"]) > 1.6e9
    assert isinstance(log_line["elapsedtime"], str) and float(log_line["elapsedtime"]) >= 0
    assert parse_datetime(log_line["datetime"]).year >= 2024
    assert log_line["step"] == 10 and log_line["data"]["mlm_loss"] == 7.25
    assert final["step"] == [] and final["data"] == {"throughput_train": 101.0}
    # read back with the published field names, as NorBERT's parse_logs.py consumes them
    points = training_points(read_dllog(path))
    assert [(p["step"], p["data"]["mlm_loss"], p["data"]["nsp_loss"], p["data"]["total_loss"]) for p in points] == [
        (10, 7.25, 0.5, 7.75)]


def test_append_on_resume_writes_metadata_once(tmp_path):
    path = tmp_path / "dllog.json"
    with DLLogger(path) as log:
        log.log(10, {"total_loss": 1.0})
    with DLLogger(path) as log:
        log.log(20, {"total_loss": 0.5})
    records = read_dllog(path)
    assert sum(r["type"] == "METADATA" for r in records) == 12 + 1  # the declarations once, one restart marker
    assert [r["metric"] for r in records if r["type"] == "METADATA"][-1] == "restart"
    assert [p["step"] for p in training_points(records)] == [10, 20]


def test_strict_reader_names_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(PUBLISHED.splitlines()[2] + "\nDLLL {broken\n")
    assert len(read_dllog(path)) == 1
    with pytest.raises(ValueError, match=r"bad.json: line 2"):
        read_dllog(path, strict=True)


def _losses(log, steps, start):
    for k, step in enumerate(steps):
        log.log(step, {"mlm_loss": start - 0.1 * k, "nsp_loss": 0.7, "total_loss": start + 0.7 - 0.1 * k})


def test_resumed_log_gives_one_curve_and_a_restart(tmp_path):
    """Killed after step 50 with the last checkpoint at 20: the resumed run logs 30.. again."""
    path = tmp_path / "dllog.json"
    with DLLogger(path) as log:
        _losses(log, [10, 20, 30, 40, 50], 9.0)
    with DLLogger(path) as log:  # appending to a log with lines: the restart marker comes first
        _losses(log, [30, 40, 60], 5.0)
    records = read_dllog(path)
    assert [len(run) for run in split_runs(records)] == [12 + 5, 1 + 3]
    points, restarts = curve_points(records)
    assert [(p["step"], p["data"]["mlm_loss"]) for p in points] == [(10, 9.0), (20, 8.9), (30, 5.0), (40, 4.9),
                                                                  (60, 4.8)]
    assert [r["step"] for r in restarts] == [30]
    from norlm.plots import load_points

    drawn = load_points([path])  # what plot-log and the report draw: one curve, the restart flagged
    assert [(p["step"], p["restart"]) for p in drawn] == [(10, False), (20, False), (30, True), (40, False),
                                                           (60, False)]


def test_published_log_restarts_at_repeated_metadata():
    """NVIDIA's logs repeat their metadata lines on every start; a step logged twice keeps its later line."""
    lines = PUBLISHED.splitlines()
    meta, logs = lines[:2], lines[2:4]
    again = logs[1].replace('"mlm_loss": 7.5', '"mlm_loss": 7.4')
    text = "\n".join(meta + logs + meta + [again]) + "\n"
    records = [json.loads(line[5:]) for line in text.splitlines()]
    assert [len(run) for run in split_runs(records)] == [4, 3]
    points, restarts = curve_points(records)
    assert [(p["step"], p["data"]["mlm_loss"]) for p in points] == [(10, 7.9), (20, 7.4)]
    assert [r["step"] for r in restarts] == [20]
