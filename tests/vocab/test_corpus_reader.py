"""The vocabulary's training text: a uniform seeded sample of lines across every shard."""
from __future__ import annotations

import numpy as np

from norlm.vocab.corpus_reader import ReadStats, count_lines, iter_lines, plan_sample

from .conftest import write_shard


def _shards(tmp_path):
    a = write_shard(tmp_path / "a-0000.txt.gz", [[f"a{d}-{i}" for i in range(10)] for d in range(100)])
    b = write_shard(tmp_path / "b-0000.txt.gz", [[f"b{d}-{i}" for i in range(10)] for d in range(300)])
    return [a, b]


def test_sample_is_uniform_over_all_shards_and_seeded(tmp_path):
    shards = _shards(tmp_path)
    assert count_lines(shards) == [1000, 3000]
    sample = plan_sample(shards, 400, seed=7)
    lines = list(iter_lines(shards, ReadStats(), sample=sample))
    assert len(lines) == 400 == len(set(lines))
    from_a = sum(line.startswith("a") for line in lines)
    assert 60 < from_a < 140  # hypergeometric around 100 (the first 400 lines would all come from a)
    later = [int(line.split("-")[0][1:]) for line in lines if line.startswith("b")]
    assert max(later) > 250 and min(later) < 50  # spread over the whole shard
    assert lines == list(iter_lines(shards, ReadStats(), sample=plan_sample(shards, 400, seed=7)))
    assert lines != list(iter_lines(shards, ReadStats(), sample=plan_sample(shards, 400, seed=8)))
    described = sample.describe(shards)
    assert described["lines"] == 400 and described["of_lines"] == 4000
    assert sum(described["per_shard"].values()) == 400


def test_no_limit_reads_every_line(tmp_path):
    shards = _shards(tmp_path)
    sample = plan_sample(shards, 0, seed=7)
    stats = ReadStats()
    assert len(list(iter_lines(shards, stats, sample=sample))) == 4000 and stats.documents == 400
    assert plan_sample(shards, 5000, seed=7).chosen == [None, None]
    assert sample.describe(shards)["method"] == "all lines"


def test_sample_frequencies_match_the_corpus(tmp_path):
    """Every line is equally likely: over many seeds each shard gets its share of the sample."""
    shards = _shards(tmp_path)
    shares = [plan_sample(shards, 100, seed=s).chosen[0].size for s in range(200)]
    assert abs(np.mean(shares) - 25) < 1.0
