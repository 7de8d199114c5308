"""What elmo-train tells the world while it runs: DLLogger lines (rank 0), the progress bar, and the
steady-state throughput for final.json (the first updates after a start trace the step, so they are
left out)."""
from __future__ import annotations

import math
import time
from pathlib import Path

from tqdm import tqdm

from norlm import engines

TRACING_STEPS = 2  # updates after a (re)start that include tf.function tracing
METADATA = {
    "train_perplexity": {"format": ":.2f", "GOAL": "MINIMIZE", "STAGE": "TRAIN"},
    "throughput_train": {"unit": "tokens/s", "GOAL": "MAXIMIZE", "STAGE": "TRAIN"},
}


class Progress:
    """Interval and steady-state bookkeeping, the DLLogger file and the bar of one run."""

    def __init__(self, out: Path, plan, start_step: int, log_every: int, show_bar: bool):
        from norlm.dllogger import DLLogger

        root = engines.is_root()
        self.log = DLLogger(out / "dllog.json", append=start_step > 0, metadata=METADATA) if root else None
        self.start_step, self.total_steps, self.log_every = start_step, plan.total_steps, log_every
        self.per_epoch, self.tokens_per_step = plan.per_epoch, plan.tokens_per_step
        self.interval_loss, self.interval_n, self.interval_t = 0.0, 0, time.time()
        self.steady_tokens, self.steady_time = 0, 0.0
        self.bar = tqdm(total=plan.total_steps, initial=start_step, desc="elmo-train", unit="step",
                        disable=not show_bar or not root)

    def update(self, step: int, loss: float, seconds: float) -> None:
        """After every update: its time (once past tracing), the interval's loss, the bar."""
        if step - self.start_step > TRACING_STEPS:
            self.steady_tokens += self.tokens_per_step
            self.steady_time += seconds
        self.interval_loss += loss
        self.interval_n += 1
        self.bar.update(1)

    def log_if_due(self, step: int, loss: float, norm) -> None:
        """The DLLogger line every log_every steps and at the last step (rank 0)."""
        if not self.log or not (step % self.log_every == 0 or step == self.total_steps):
            return
        elapsed = time.time() - self.interval_t
        perplexity = math.exp(self.interval_loss / self.interval_n)
        self.log.log(step, {"train_perplexity": perplexity, "loss": loss, "grad_norm": float(norm),
                            "throughput_train": self.interval_n * self.tokens_per_step / elapsed,
                            "epoch": (step - 1) // self.per_epoch + 1})
        self.bar.set_postfix(ppl=f"{perplexity:.1f}")
        self.interval_loss, self.interval_n, self.interval_t = 0.0, 0, time.time()

    def steady_throughput(self) -> float | None:
        return self.steady_tokens / self.steady_time if self.steady_time else None

    def close(self, completed: bool) -> None:
        """Close the bar and the log; a completed run's log ends with its steady throughput."""
        self.bar.close()
        if not self.log:
            return
        if completed:
            self.log.log([], {"throughput_train": self.steady_throughput()})
        self.log.close()
