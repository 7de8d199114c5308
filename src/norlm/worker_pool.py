"""The process pool the CPU stages (corpus, vocab, elmo-vocab) fan their jobs out with, per rank.

Workers are forked when the stage runs as a plain process (they inherit what the parent loaded)
and spawned under an MPI launcher, where forking an MPI process is unsafe.  Results come back in
job order, so the output does not depend on the number of workers; rank 0 shows the progress bar.
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Callable

from tqdm import tqdm

from norlm import engines


def pool_map(fn: Callable[[Any], Any], jobs: list, workers: int, desc: str) -> list:
    """Results of fn over jobs, in order; in a pool of up to `workers` processes when there is more
    than one worker and more than one job."""
    bar = dict(total=len(jobs), desc=desc, unit="job", disable=not engines.is_root() or None, leave=False)
    if workers <= 1 or len(jobs) <= 1:
        return [fn(job) for job in tqdm(jobs, **bar)]
    method = "fork" if not engines.launched() else "spawn"
    with multiprocessing.get_context(method).Pool(min(workers, len(jobs))) as pool:
        return list(tqdm(pool.imap(fn, jobs), **bar))
