"""NVIDIA DLLogger JSON-lines logs: a writer for our training runs and a reader for any such file.

Format (bert-recipe §2.9): every line is the literal prefix ``DLLL `` followed by one JSON object.
Metadata lines come first (``timestamp, elapsedtime, datetime, type="METADATA", metric, metadata``);
log lines carry ``timestamp, datetime, elapsedtime, type="LOG", step, data`` in that order, with
``timestamp`` and ``elapsedtime`` as strings and ``datetime`` as Python's ``str(datetime.now())``
(no ``.ffffff`` part when the microseconds are 0).  The final summary line has ``step: []``.
Writing exactly this lets tools made for the published NorBERT logs read ours, and vice versa.
"""
from __future__ import annotations

import datetime as _dt
import gzip
import json
import os
import time
from pathlib import Path
from typing import Any, Iterable

PREFIX = "DLLL "

# metrics NVIDIA's BERT declares up front, with their metadata
DEFAULT_METADATA: dict[str, dict[str, str]] = {
    "mlm_loss": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "TRAIN"},
    "nsp_loss": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "TRAIN"},
    "avg_loss_step": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "TRAIN"},
    "total_loss": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "TRAIN"},
    "loss": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "VAL"},
    "f1": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "VAL"},
    "precision": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "VAL"},
    "recall": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "VAL"},
    "mcc": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "VAL"},
    "exact_match": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "VAL"},
    "throughput_train": {"unit": "seq/s", "format": ":.4f", "GOAL": "MAXIMIZE", "STAGE": "TRAIN"},
    "throughput_inf": {"unit": "seq/s", "format": ":.4f", "GOAL": "MAXIMIZE", "STAGE": "VAL"},
}

_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")
RESTART = "restart"  # the metric name of the marker line a resumed run writes (a METADATA line)


class DLLogger:
    """Append DLLogger lines to `path` (JSON stream) and optionally print the stdout form.

    Appending (not truncating) is what a resumed run needs: the log of an interrupted run keeps its
    earlier lines, and metadata lines are written only when the file is new or empty.  Appending to
    a file that has lines writes a restart marker first (a METADATA line, so tools made for the
    published logs skip it), from which `curve_points` starts a new run.
    """

    def __init__(self, path: str | os.PathLike, metadata: dict[str, dict] | None = None,
                 stdout: bool = False, append: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not append or not self.path.exists() or self.path.stat().st_size == 0
        self._fh = open(self.path, "a" if append else "w", encoding="utf-8")
        self._stdout = stdout
        self._start = time.time()
        if fresh:
            for metric, meta in (DEFAULT_METADATA if metadata is None else metadata).items():
                self.metadata(metric, meta)
        else:
            self.metadata(RESTART, {"note": "the run was resumed: a step logged again replaces its earlier line"})

    def _times(self) -> tuple[str, str, str]:
        now = time.time()
        return str(now), str(_dt.datetime.fromtimestamp(now)), str(now - self._start)

    def _write(self, record: dict) -> None:
        self._fh.write(PREFIX + json.dumps(record) + "\n")
        self._fh.flush()

    def metadata(self, metric: str, metadata: dict) -> None:
        timestamp, datetime, elapsed = self._times()
        self._write({"timestamp": timestamp, "elapsedtime": elapsed, "datetime": datetime,
                     "type": "METADATA", "metric": metric, "metadata": metadata})

    def log(self, step: int | list | tuple, data: dict[str, Any]) -> None:
        timestamp, datetime, elapsed = self._times()
        step_value = list(step) if isinstance(step, (list, tuple)) else int(step)
        self._write({"timestamp": timestamp, "datetime": datetime, "elapsedtime": elapsed,
                     "type": "LOG", "step": step_value, "data": data})
        if self._stdout:
            label = "" if step_value == [] else f"Iteration: {step_value}  "
            fields = "  ".join(f"{k} : {v}" for k, v in data.items())
            print(f"DLL {datetime} - {label}{fields}", flush=True)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> "DLLogger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def parse_datetime(text: str) -> _dt.datetime:
    """`str(datetime)` back into a datetime, with or without the microsecond part."""
    for fmt in _DATETIME_FORMATS:
        try:
            return _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"not a DLLogger datetime: {text!r}")


def _open(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_dllog(path: str | os.PathLike, strict: bool = False) -> list[dict]:
    """Every record of a DLLogger JSON file (ours or NVIDIA's/NorBERT's; `.gz` allowed), in order.

    Each record is the JSON object as written, plus ``"time"``: the parsed ``datetime`` (or None).
    Lines that are not DLLogger records are skipped; with ``strict=True`` they raise ValueError
    naming file and line.  Use `training_points` for the LOG lines with a step.
    """
    path = Path(path)
    records: list[dict] = []
    with _open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            text = line.strip()
            if not text:
                continue
            if text.startswith(PREFIX.strip()):
                text = text[len(PREFIX.strip()):].strip()
            try:
                record = json.loads(text)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                if strict:
                    raise ValueError(f"{path}: line {lineno}: not a DLLogger record ({exc})") from None
                continue
            stamp = record.get("datetime")
            try:
                record["time"] = parse_datetime(stamp) if isinstance(stamp, str) else None
            except ValueError:
                record["time"] = None
            records.append(record)
    return records


def training_points(records: Iterable[dict]) -> list[dict]:
    """LOG records with a numeric step (no metadata, no final summary with `step: []`)."""
    out = []
    for record in records:
        if "metadata" in record or record.get("type") == "METADATA":
            continue
        step = record.get("step")
        if isinstance(step, bool) or not isinstance(step, int):
            continue
        out.append(record)
    return out


def split_runs(records: Iterable[dict]) -> list[list[dict]]:
    """Records cut into runs: a new run starts at a restart marker, or (the published NVIDIA logs,
    which repeat their metadata on every start) at a METADATA line that follows a LOG line."""
    runs: list[list[dict]] = [[]]
    seen_log = False
    for record in records:
        meta = "metadata" in record or record.get("type") == "METADATA"
        if meta and (record.get("metric") == RESTART or seen_log) and runs[-1]:
            runs.append([])
            seen_log = False
        seen_log = seen_log or not meta
        runs[-1].append(record)
    return runs


def curve_points(records: Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """One curve from a log with restarts: (training points, restarts).

    A later run replaces every point of the earlier ones from its own first step on (the earlier run
    logged those steps before its last checkpoint was lost), and within a run a step logged twice
    keeps its later line.  Each restart is the first point of a run after the first one.
    """
    points: list[dict] = []
    restarts: list[dict] = []
    for n, run in enumerate(split_runs(records)):
        mine = list({p["step"]: p for p in training_points(run)}.values())
        if not mine:
            continue
        first = mine[0]["step"]
        if points and n:
            restarts.append(mine[0])
        points = [p for p in points if p["step"] < first] + mine
    return points, restarts
