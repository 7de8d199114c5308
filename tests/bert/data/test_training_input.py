"""norlm.bert.train.input: rank sharding, deterministic training order, exact resume by skipping batches."""
from __future__ import annotations

import numpy as np
import pytest

from norlm.bert.train.input import list_files, make_dataset, rank_files


def _take(ds, n):
    return [{k: v.numpy() for k, v in batch.items()} for _, batch in zip(range(n), ds)]


def test_rank_files_are_disjoint_and_too_many_ranks_is_an_error(phase1_run):
    files = list_files(phase1_run)
    assert len(files) == 8
    parts = [rank_files(files, r, 3) for r in range(3)]
    assert sorted(f for p in parts for f in p) == files and [len(p) for p in parts] == [3, 3, 2]
    with pytest.raises(ValueError, match="8 input file\\(s\\) for 9 ranks"):
        make_dataset(files, 4, 128, 20, rank=0, size=9)


def test_training_batches_are_deterministic_and_resume_exactly(phase1_run, phase1_arrays):
    files = list_files(phase1_run)
    first = _take(make_dataset(files, 16, 128, 20, is_training=True, seed=3, rank=1, size=2), 6)
    again = _take(make_dataset(files, 16, 128, 20, is_training=True, seed=3, rank=1, size=2), 6)
    resumed = _take(make_dataset(files, 16, 128, 20, is_training=True, seed=3, rank=1, size=2, skip_batches=4), 2)
    other_seed = _take(make_dataset(files, 16, 128, 20, is_training=True, seed=4, rank=1, size=2), 1)
    rank0 = _take(make_dataset(files, 16, 128, 20, is_training=True, seed=3, rank=0, size=2), 1)
    for a, b in zip(first, again):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    for a, b in zip(first[4:], resumed):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(first[0]["input_ids"], other_seed[0]["input_ids"])
    assert not np.array_equal(first[0]["input_ids"], rank0[0]["input_ids"])
    batch = first[0]
    assert batch["input_ids"].shape == (16, 128) and batch["input_ids"].dtype == np.int32
    assert batch["masked_lm_weights"].shape == (16, 20) and batch["masked_lm_weights"].dtype == np.float32
    assert batch["next_sentence_labels"].shape == (16, 1)
    # every training instance is one of the written instances
    written = {row.tobytes() for row in phase1_arrays["input_ids"]}
    assert all(row.tobytes() in written for b in first for row in b["input_ids"])


def test_evaluation_keeps_the_last_partial_batch(phase1_run, phase1_arrays):
    files = list_files(phase1_run)[:1]
    batches = _take(make_dataset(files, 1000, 128, 20, is_training=False), 100)
    total = sum(len(b["input_ids"]) for b in batches)
    assert total == len(phase1_arrays["input_ids"][:total]) and len(batches[-1]["input_ids"]) == total % 1000
    np.testing.assert_array_equal(np.concatenate([b["input_ids"] for b in batches]),
                                  phase1_arrays["input_ids"][:total])
