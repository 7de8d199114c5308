"""The global batch of BERT training kept fixed whatever the cluster: the config's per-rank batch
and accumulation were written for `[hpc.bert_train] gpus` ranks; on another rank count the job
gets the per-rank batch and accumulation that give the same global batch (768 / 128 for NorBERT-1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from norlm.hpc.jobs import Job
from norlm.hpc.profile import RenderError


@dataclass(frozen=True)
class BatchMapping:
    phase: int
    global_batch: int
    ranks: int
    per_rank: int
    accumulation: int
    reference_ranks: int

    def header(self) -> str:
        return (f"# Global batch, phase {self.phase}: {self.global_batch} = {self.ranks} ranks x {self.per_rank} "
                f"per rank x {self.accumulation} accumulation step(s) (config written for "
                f"{self.reference_ranks} ranks)")

    def overrides(self) -> list[str]:
        return [f"bert.phase{self.phase}.train_batch_size={self.per_rank}",
                f"bert.phase{self.phase}.accumulation_steps={self.accumulation}"]


def split_batch(global_batch: int, ranks: int, max_per_rank: int) -> tuple[int, int]:
    """(per-rank batch, accumulation) with per x accumulation x ranks = global_batch, the fewest
    accumulation steps whose per-rank batch is at most `max_per_rank` (what the config fits in memory)."""
    if global_batch % ranks:
        raise RenderError(f"global batch {global_batch} cannot be split over {ranks} ranks; use a GPU count "
                          f"that divides it")
    per_rank_total = global_batch // ranks
    for accumulation in range(1, per_rank_total + 1):
        if per_rank_total % accumulation == 0 and per_rank_total // accumulation <= max_per_rank:
            return per_rank_total // accumulation, accumulation
    raise RenderError(f"no split of the global batch {global_batch} over {ranks} ranks")  # unreachable


def bert_batch(cfg: Any, job: Job) -> BatchMapping | None:
    """The mapping of a bert-train job, or None for other stages."""
    if job.stage != "bert-train" or job.phase not in (1, 2):
        return None
    phase_cfg = getattr(cfg.bert, f"phase{job.phase}")
    reference = job.reference_gpus or job.ranks
    global_batch = phase_cfg.train_batch_size * phase_cfg.accumulation_steps * reference
    per_rank, accumulation = split_batch(global_batch, job.ranks, phase_cfg.train_batch_size)
    return BatchMapping(job.phase, global_batch, job.ranks, per_rank, accumulation, reference)
