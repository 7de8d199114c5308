"""One stage's estimate in `norlm plan` (any kind of stage), and the corpus size every CPU stage reads.

Standard library only.  Every estimate names its basis: "measured here ..." (this machine, this
code), "measured elsewhere" (a published run) or "assumed" (a peak x an assumed efficiency, a
ratio carried from another GPU).
"""
from __future__ import annotations

import glob
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from norlm.hpc.jobs import Job
from norlm.hpc.profile import parse_time

# the paper's corpus (Kutuzov et al. 2021 §2; ../shared/specs/scale.md §1): 1,907,072,909 words, ~12 GB of text
PAPER_BYTES = 12e9
PAPER_WORDS = 1_907_072_909
WORDS_PER_BYTE = PAPER_WORDS / PAPER_BYTES


@dataclass(frozen=True)
class StagePlan:
    job: Job
    hours: float = 0.0  # wall time without queueing
    rate: str = ""  # what the time was divided by, e.g. "2.81 TFLOP/s per GPU", "3.06 MB/CPU-s x 48"
    basis: str = ""  # measured here / measured elsewhere / assumed, with the source
    flops: float = 0.0  # GPU training stages
    tflops_per_gpu: float = 0.0
    gpu_hours: float = 0.0
    core_hours: float = 0.0  # CPU cores allocated x wall time
    jobs: int = 0  # jobs of the time limit (less the SIGUSR1 margin) the stage takes
    billing: float = 0.0
    disk_gb: float = 0.0  # written by the stage and kept
    mem_gb: float = 0.0  # peak resident memory per worker (CPU stages)
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.job.label

    @property
    def nodes_to_fit(self) -> int:
        """Nodes (all array tasks together) that would finish within one time limit, scaling perfectly over
        ranks; 0 when a single process runs over it (it cannot be spread)."""
        job = self.job
        usable = (parse_time(job.time) - job.signal_seconds) / 3600
        if not job.mpi:
            return 1 if self.hours <= usable else 0
        return max(1, math.ceil(job.array * job.nodes * self.hours / usable)) if usable > 0 else 0


def jobs_needed(job: Job, hours: float) -> int:
    usable = (parse_time(job.time) - job.signal_seconds) / 3600
    return max(1, math.ceil(hours / usable)) if usable > 0 else 0


def chain_note(job: Job, jobs: int) -> tuple[str, ...]:
    if jobs > job.chain + 1:
        return (f"takes {jobs} jobs of {job.time} but chain = {job.chain}: set "
                f"[hpc.{job.stage.replace('-', '_')}] chain = {jobs - 1}",)
    return ()


@dataclass(frozen=True)
class Corpus:
    bytes: float
    words: float
    basis: str


def corpus_size(cfg: Any, gigabytes: float = 0.0) -> Corpus:
    """The input text every CPU stage reads: --corpus-gb, else the paper's corpus for the full-data
    sources (data/full/...), else the size of the config's source files here."""
    if gigabytes > 0:
        return Corpus(gigabytes * 1e9, gigabytes * 1e9 * WORDS_PER_BYTE, f"assumed: --corpus-gb {gigabytes:g}")
    paths = [p for src in cfg.corpus.sources for p in src.paths]
    if any(p.startswith("data/full") for p in paths):
        return Corpus(PAPER_BYTES, PAPER_WORDS, "the paper's corpus: 1,907 M words, ~12 GB of text (scale.md §1)")
    from norlm.layout import repo_glob_bases

    files = set()
    for pattern in paths:
        for base in repo_glob_bases(pattern):
            found = glob.glob(str(base))
            if found:
                files.update(found)
                break
    total = sum(Path(f).stat().st_size for f in files)
    return Corpus(float(total), total * WORDS_PER_BYTE,
                  f"measured here: the config's source files, {total / 1e6:,.1f} MB on disk")
