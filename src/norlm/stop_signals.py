"""Stop requests from the batch system: Slurm sends SIGUSR1 (`--signal=USR1@<seconds>`) or SIGTERM
(time limit, preemption, `scancel`) before it kills a job.  Training loops poll `StopFlag.requested`
once per step, write a checkpoint and exit with code 143 so a follow-up job resumes."""
from __future__ import annotations

import signal

EXIT_INTERRUPTED = 143  # 128 + SIGTERM, what a job killed by its time limit reports


class StopFlag:
    """Records the first SIGTERM/SIGUSR1; the loop decides when to stop (never mid-update)."""

    def __init__(self) -> None:
        self.signal: str | None = None

    def install(self) -> "StopFlag":
        for sig in (signal.SIGTERM, signal.SIGUSR1):
            signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.signal = self.signal or signal.Signals(signum).name

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def requested_on_any_rank(self) -> bool:
        """True on every rank when any rank got a signal; a collective, so all ranks call it at the same step."""
        from norlm import engines

        if engines.size() == 1:
            return self.requested
        return float(engines.allreduce(float(self.requested), "sum")) > 0
