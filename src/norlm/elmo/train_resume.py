"""Where an elmo-train run starts: its newest checkpoint, so an interrupted run continues exactly
(weights, Adagrad slots, step, each rank's carried LSTM states and stream positions), else step 0
with rank 0's initial weights on every rank.  A run whose final.json exists is not started again."""
from __future__ import annotations

from norlm import engines


def choose_start(trainer, batches, plan) -> int | None:
    """Restore the start point into `trainer` and `batches` and return its step; None if already complete."""
    from norlm.elmo import checkpoint as ck

    ckpt_dir = plan.ckpt_dir
    start_step = ck.latest_step(ckpt_dir)
    if start_step is not None and start_step >= plan.total_steps and (plan.out / "final.json").exists():
        engines.log0(f"elmo-train: already complete at step {start_step} ({plan.out / 'final.json'})")
        return None
    if start_step is None:
        engines.broadcast_variables(trainer.train_vars)
        return 0
    ck.restore_training(ckpt_dir, start_step, trainer, batches)
    engines.log0(f"elmo-train: resuming from step {start_step} ({ckpt_dir})")
    return start_step
