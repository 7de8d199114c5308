"""What a training run tells the world: DLLogger lines, TensorBoard scalars, the console, the summary.

Rank 0 writes; the others only count.  The DLLogger lines follow NVIDIA's hook (step = global_step
+ 1, every ``display_loss_steps``, throughput of the interval, ``avg_loss_step`` over it), so tools
written for the published NorBERT logs read ours.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

TB_SCALARS = ("mlm_loss", "nsp_loss", "total_loss", "mlm_accuracy", "nsp_accuracy", "learning_rate", "grad_norm")
STEADY_AFTER = 6  # updates after a (re)start before step times count as steady


def format_eta(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Interval bookkeeping and the three outputs of one run."""

    def __init__(self, out_dir: Path, bcfg, global_batch: int, total: int, stop_at: int, start_step: int,
                 precision: str, root: bool, run_info: dict | None = None):
        import tensorflow as tf
        from norlm.dllogger import DLLogger

        self.tf, self.bcfg, self.root = tf, bcfg, root
        self.global_batch, self.total, self.stop_at, self.start_step = global_batch, total, stop_at, start_step
        self.precision = precision
        self.dll = DLLogger(out_dir / "dllog.json") if root else None
        if self.dll and run_info:  # what this (re)start ran: `norlm plan --from-log` reads phase and workers here
            self.dll.metadata("run", run_info)
        self.tb = tf.summary.create_file_writer(str(out_dir / "tensorboard")) if root else None
        self.t_start = self.t_interval = time.time()
        self.interval_losses: list[float] = []
        self.interval_updates = 0
        self.steady: list[float] = []
        self.since_restart = 0
        self.first = None
        self.last = None

    def timed(self, dt: float, metrics: dict) -> None:
        """Every update, applied or not: step time and first/last metrics."""
        self.since_restart += 1
        if self.since_restart > STEADY_AFTER:
            self.steady.append(dt)
        if self.first is None:
            self.first = metrics
        self.last = metrics

    def applied(self, step: int, metrics: dict, loss_scale) -> None:
        """An applied update: the DLLogger/TensorBoard interval line and the console line when due."""
        self.interval_losses.append(metrics["total_loss"])
        self.interval_updates += 1
        if not self.root:
            return
        dll_step = step + 1  # NVIDIA's hook logs global_step + 1
        if dll_step % self.bcfg.display_loss_steps == 0 or dll_step == 1:
            self._log_interval(step, dll_step, metrics, loss_scale)
        if step % self.bcfg.console_steps == 0 or step == self.stop_at:
            self._console(step, metrics)

    def _log_interval(self, step: int, dll_step: int, metrics: dict, loss_scale) -> None:
        elapsed = time.time() - self.t_interval
        data = {"throughput_train": self.global_batch * self.interval_updates / max(elapsed, 1e-9),
                "mlm_loss": metrics["mlm_loss"], "nsp_loss": metrics["nsp_loss"],
                "total_loss": metrics["total_loss"],
                "avg_loss_step": float(np.mean(self.interval_losses)),
                "learning_rate": str(np.float32(metrics["learning_rate"]))}
        if self.precision == "fp16":
            data["loss_scaler"] = int(loss_scale.numpy())
        self.dll.log(dll_step, data)
        with self.tb.as_default(step=step):
            for key in TB_SCALARS:
                self.tf.summary.scalar(key, metrics[key])
            self.tf.summary.scalar("throughput_train", data["throughput_train"])
        self.t_interval, self.interval_losses, self.interval_updates = time.time(), [], 0

    def _console(self, step: int, metrics: dict) -> None:
        rate = (step - self.start_step) / max(time.time() - self.t_start, 1e-9)
        print(f"step {step}/{self.total}  {self.global_batch * rate:8.1f} seq/s  mlm {metrics['mlm_loss']:.4f}  "
              f"nsp {metrics['nsp_loss']:.4f}  total {metrics['total_loss']:.4f}  "
              f"mlm_acc {metrics['mlm_accuracy']:.3f}  nsp_acc {metrics['nsp_accuracy']:.3f}  "
              f"lr {metrics['learning_rate']:.3e}  ETA {format_eta((self.stop_at - step) / max(rate, 1e-9))}",
              flush=True)

    def checkpointed(self) -> None:
        self.since_restart = 0  # the next step times include a checkpoint write's aftermath

    def steady_throughput(self) -> float | None:
        return self.global_batch / float(np.mean(self.steady)) if self.steady else None

    def seconds(self) -> float:
        return round(time.time() - self.t_start, 2)

    def close(self, steady: bool = False) -> None:
        if not self.root:
            return
        if steady and self.steady:
            self.dll.log([], {"throughput_train": self.steady_throughput()})
        self.dll.close()
        self.tb.close()
