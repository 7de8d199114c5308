"""Where a training run starts: our own newest checkpoint, else phase 1's end (phase 2), else scratch.

Phase 2 either continues phase 1 (same step counter and optimiser state, a larger cumulative T;
NorBERT) or starts a fresh schedule from phase 1's weights (NVIDIA), per ``bert.phase2_mode``.
A checkpoint written by a different number of workers keeps its weights and step, but the data
order restarts (each rank's file share changed).
"""
from __future__ import annotations

from pathlib import Path

from norlm import engines
from norlm.errors import StageError


def choose_start(keeper, trainer, phase: int, pcfg, bcfg, init_checkpoint: str | None, phase1_dir: Path) -> str:
    """Restore the start point into `trainer`; return a one-line note saying which it was."""
    from norlm.bert.train.checkpoint import load_model_weights, resolve_checkpoint

    state = trainer.state
    if keeper.latest:
        keeper.restore(keeper.latest)
        saved_world = int(state.world_size.numpy())
        if saved_world != engines.size():
            engines.log0(f"checkpoint was written by {saved_world} worker(s), now {engines.size()}: "
                      "the data order restarts")
            state.input_position.assign(0)
        return f"resumed from {keeper.latest}"
    if phase == 2:
        prefix = resolve_checkpoint(init_checkpoint or str(phase1_dir))
        if bcfg.phase2_mode == "continue":
            keeper.restore(prefix)
            state.input_position.assign(0)
            step = int(state.global_step.numpy())
            if step >= pcfg.train_steps:
                raise StageError(f"phase 2 continues phase 1 at step {step}, but bert.phase2.train_steps is "
                                 f"{pcfg.train_steps}: with phase2_mode='continue' T is cumulative and must be larger")
            return f"continuing phase 1 from {prefix} at step {step}"
        load_model_weights(trainer.model, prefix)
        return f"fresh schedule from the weights of {prefix}"
    if init_checkpoint:
        load_model_weights(trainer.model, init_checkpoint)
        return f"weights from {init_checkpoint}"
    return "from scratch"
