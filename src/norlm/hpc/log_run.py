"""A real bert-train run's DLLogger file, for `norlm plan --from-log`: phase, workers and global batch
from the "run" metadata record bert-train writes at every (re)start (never from the file's path),
the steady-state throughput of the final summary record, and the check that this throughput
predicts the run's own training time.

The check covers the training loop from the first logged interval to the last (checkpoints and
logging included); the start-up before it (graph tracing, the first updates) is reported apart:
the plan does not model it, and at cluster scale it is minutes in days.  Standard library only.
"""
from __future__ import annotations

from typing import Any

from norlm.hpc.profile import RenderError
from norlm.hpc.throughput import Throughput


def _session(records: list[dict]) -> tuple[dict, list[dict], float]:
    """(run record of the last (re)start, its interval records, its first timestamp)."""
    starts = [i for i, r in enumerate(records) if r.get("type") == "METADATA" and r.get("metric") == "run"]
    first = starts[-1] if starts else 0
    info = records[first]["metadata"] if starts else {}
    rest = records[first:]
    intervals = [r for r in rest if r.get("type") == "LOG" and isinstance(r.get("step"), int)
                 and "throughput_train" in r.get("data", {})]
    return info, intervals, float(rest[0]["timestamp"]) if rest else 0.0


class LogRun:
    def __init__(self, cfg: Any, path: str, phase: int = 0, gpus: int = 0):
        from norlm.dllogger import read_dllog
        from norlm.hpc.train_cost import sequence_flops

        records = read_dllog(path)
        info, intervals, t0 = _session(records)
        self.phase, self.workers = int(info.get("phase", phase)), int(info.get("workers", gpus))
        if not self.phase or not self.workers:
            raise RenderError(f"{path}: no run metadata record (bert-train writes one since issue 29); "
                              "pass --log-phase and --log-gpus")
        summary = [r for r in records if r.get("type") == "LOG" and r.get("step") == [] and
                   "throughput_train" in r.get("data", {})]
        if not intervals and not summary:
            raise RenderError(f"{path}: no throughput_train record (is it a bert-train dllog.json?)")
        self.seq_s = float((summary or intervals)[-1]["data"]["throughput_train"])
        self.global_batch = int(info.get("global_batch", 0))
        self.sequence_flops = sequence_flops(cfg, self.phase)
        tflops = self.seq_s / self.workers * self.sequence_flops / 1e12
        self.figure = Throughput("(log)", cfg.bert.precision, tflops, tflops, "measured here",
                                 f"{path}: {self.seq_s:g} seq/s on {self.workers} worker(s), phase {self.phase}")
        first, last = (intervals[0], intervals[-1]) if intervals else ({}, {})
        self.updates = int(last.get("step", 0)) - int(first.get("step", 0))
        self.measured_s = float(last.get("timestamp", 0)) - float(first.get("timestamp", 0))
        self.startup_s = float(first.get("timestamp", t0)) - t0

    def predicted_s(self) -> float:
        """The logged updates' time by the plan's arithmetic: FLOPs / (workers x per-worker TFLOP/s)."""
        flops = self.sequence_flops * self.global_batch * self.updates
        return flops / (self.workers * self.figure.tflops_128 * 1e12)

    def check_line(self) -> str:
        if not self.global_batch or not self.measured_s:
            return "--from-log check: not made (the log has no run record with the global batch, or one interval)"
        error = self.predicted_s() / self.measured_s - 1
        return (f"--from-log check: phase {self.phase}, {self.updates} updates of {self.global_batch} on "
                f"{self.workers} worker(s) between the first and last logged interval: predicted "
                f"{self.predicted_s():.1f} s, measured {self.measured_s:.1f} s, error {error:+.1%} "
                f"(start-up before the first interval, not modelled: {self.startup_s:.1f} s)")
