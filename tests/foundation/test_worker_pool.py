"""The CPU stages' process pool: results in job order, whatever the number of workers."""
from __future__ import annotations

import os

from norlm.worker_pool import pool_map


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_results_keep_job_order_in_two_processes():
    jobs = list(range(40))
    serial = pool_map(_square_and_pid, jobs, 1, "test")
    pooled = pool_map(_square_and_pid, jobs, 2, "test")
    assert [r for r, _ in pooled] == [r for r, _ in serial] == [x * x for x in jobs]
    assert {pid for _, pid in serial} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid in pooled}  # the jobs ran in worker processes


def test_one_job_runs_in_this_process():
    assert pool_map(_square_and_pid, [3], 4, "test") == [(9, os.getpid())]
