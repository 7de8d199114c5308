"""The vocabulary's training text: a uniform seeded sample of lines across every shard."""
from __future__ import annotations

from collections import Counter

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


def _stats_json(shards, counts):
    from norlm.files import write_json

    write_json(shards[0].parent / "stats.json", {"sources": {"s": {"shards": [
        {"file": p.name, "sentences": c} for p, c in zip(shards, counts)]}}})


def test_line_counts_come_from_the_corpus_stats_without_a_pass(tmp_path, monkeypatch):
    from norlm.vocab import corpus_reader

    shards = _shards(tmp_path)
    expected = plan_sample(shards, 400, seed=7)  # counted by reading (no stats.json yet)
    _stats_json(shards, [1000, 3000])

    def no_pass(*_):
        raise AssertionError("counted the shards although stats.json lists them")

    monkeypatch.setattr(corpus_reader, "count_lines", no_pass)
    sample = plan_sample(shards, 400, seed=7)
    assert [c.tolist() for c in sample.chosen] == [c.tolist() for c in expected.chosen]
    assert sample.counts == [1000, 3000]


def test_read_sample_in_two_processes_equals_the_stream(tmp_path):
    from norlm.vocab.corpus_reader import read_sample

    shards = _shards(tmp_path) + [write_shard(tmp_path / "c-0000.txt.gz", [[f"c{d}-{i}" for i in range(3)]
                                                                        for d in range(50)])]
    sample = plan_sample(shards, 700, seed=3)
    streamed_stats = ReadStats()
    streamed = list(iter_lines(shards, streamed_stats, sample=sample))
    for workers in (1, 2):
        lines, stats, chars = read_sample(shards, sample, workers)
        assert lines == streamed and len(lines) == 700
        assert chars == Counter(ch for line in streamed for ch in line)
        assert (stats.files, stats.lines, stats.documents, stats.characters) == \
            (streamed_stats.files, streamed_stats.lines, streamed_stats.documents, streamed_stats.characters)


def test_a_shard_changed_since_the_corpus_stats_is_refused(tmp_path):
    import pytest

    from norlm.vocab.corpus_reader import CorpusError, read_sample

    shards = _shards(tmp_path)
    _stats_json(shards, [1000, 3200])  # b holds 3000 lines now
    sample = plan_sample(shards, 400, seed=7)
    with pytest.raises(CorpusError, match=r"b-0000.txt.gz: 3,000 lines, but the sample was drawn from 3,200"):
        read_sample(shards, sample, 1)
