"""A multistream Wikipedia dump larger than corpus.unit_mb is read as several units, byte ranges of
whole bz2 streams, with the same documents and byte-identical shards as one unit; single-stream
dumps stay one unit, and a truncated range is reported as bad input of that unit only."""
from __future__ import annotations

import bz2
import dataclasses
import gzip
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from norlm.config import ConfigError, load_config
from norlm.corpus.inputs import Issues
from norlm.corpus.process import unit_fingerprint
from norlm.corpus.readers import reader_for
from norlm.corpus.settings import CorpusConfig, SourceConfig
from norlm.corpus.units import plan
from tests.conftest import REPO, run_norlm

from .corpus_tools import write_config

TEXT_BYTES = 1_500_000  # ~570 kB of bz2 in streams of 200 pages (~85 kB each)
UNIT_MB = 0.1


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    spec = importlib.util.spec_from_file_location("synth_corpus", REPO / "bench" / "synth_corpus.py")
    synth = sys.modules.setdefault("synth_corpus", importlib.util.module_from_spec(spec))
    if not hasattr(synth, "write_file"):
        spec.loader.exec_module(synth)
    path = tmp_path_factory.mktemp("wiki") / "nbwiki-pages-articles-multistream.xml.bz2"
    synth.write_file(synth.fit(), path, "wikipedia", "nb", TEXT_BYTES, 1, 1)
    return path


def _source(path: Path) -> SourceConfig:
    return SourceConfig(name="wiki", kind="wikipedia", paths=(str(path),))


def _read(units, source) -> tuple[list[list[list[str]]], list[Issues]]:
    """Per unit: its documents (paragraph lists) and its issues."""
    docs, issues = [], []
    for unit in units:
        issues.append(Issues(echo=False))
        docs.append([d.parts for d in reader_for("wikipedia")(unit, source, CorpusConfig(), issues[-1])])
    return docs, issues


def test_plan_splits_the_dump_into_contiguous_ranges_of_whole_streams(dump):
    units, _ = plan((_source(dump),), UNIT_MB)
    size = dump.stat().st_size
    assert len(units) > 2
    assert [u.index for u in units] == list(range(len(units)))
    assert units[0].span[0] == 0 and units[-1].span[1] == size
    assert all(a.span[1] == b.span[0] for a, b in zip(units, units[1:]))
    assert all(u.size == u.span[1] - u.span[0] > 0 and u.files == (str(dump),) for u in units)
    data = dump.read_bytes()
    for unit in units[1:]:
        start, end = unit.span
        assert start >= UNIT_MB * 1e6 * unit.index  # cut after its boundary
        text = bz2.decompress(data[start:end])  # whole streams only
        assert text.lstrip().startswith(b"<page>") and text.rstrip().endswith(b"</page>" if end < size
                                                                              else b"</mediawiki>")
    # a changed split must not reuse a part
    cfg = CorpusConfig()
    moved = dataclasses.replace(units[1], span=(units[1].span[0] + 1, units[1].span[1]))
    assert unit_fingerprint(units[1], _source(dump), cfg, "punkt", 1) != unit_fingerprint(moved, _source(dump), cfg,
                                                                                          "punkt", 1)
    whole, _ = plan((_source(dump),), 100.0)
    assert len(whole) == 1 and whole[0].span is None and whole[0].size == size


def test_split_and_whole_dump_give_the_same_documents(dump):
    source = _source(dump)
    split_docs, split_issues = _read(plan((source,), UNIT_MB)[0], source)
    whole_docs, whole_issues = _read(plan((source,), 100.0)[0], source)
    assert all(split_docs) and not any(i.counts for i in split_issues + whole_issues)
    assert [d for docs in split_docs for d in docs] == whole_docs[0]
    assert sum((i.dropped for i in split_issues), Counter()) == whole_issues[0].dropped


def test_single_stream_dump_stays_one_unit(dump, tmp_path):
    single = tmp_path / "single.xml.bz2"
    single.write_bytes(bz2.compress(bz2.decompress(dump.read_bytes()), 9))
    assert single.stat().st_size > UNIT_MB * 1e6
    units, _ = plan((_source(single),), UNIT_MB)
    assert len(units) == 1 and units[0].span is None
    docs, issues = _read(units, _source(single))
    reference, _ = _read(plan((_source(dump),), 100.0)[0], _source(dump))
    assert docs == reference and not issues[0].counts


def test_truncated_range_is_bad_input_of_its_unit_only(dump, tmp_path):
    units, _ = plan((_source(dump),), UNIT_MB)
    k = len(units) // 2
    cut = tmp_path / dump.name
    start, end = units[k].span
    cut.write_bytes(dump.read_bytes()[:(start + end) // 2])
    units = [dataclasses.replace(u, files=(str(cut),)) for u in units]  # planned before the file was cut
    docs, issues = _read(units, _source(cut))
    assert all(docs[:k]) and not any(i.counts for i in issues[:k])
    for i in issues[k:]:
        assert i.counts == {"truncated-file": 1}
        assert i.messages[0].startswith(f"{cut}: truncated-file: bz2 streams at bytes ")
    assert "end-of-stream marker" in issues[k].messages[0]

    units, _ = plan((_source(cut),), UNIT_MB)  # planned on the cut file: its last range holds the cut stream
    assert len(units) >= 2 and units[-1].span[1] == cut.stat().st_size
    docs, issues = _read(units, _source(cut))
    assert all(docs) and not any(i.counts for i in issues[:-1])
    assert issues[-1].counts == {"truncated-file": 1} and str(cut) in issues[-1].messages[0]


def test_unit_mb_must_be_positive():
    with pytest.raises(ConfigError, match=r"\[corpus\] key 'unit_mb' must be greater than 0, got 0"):
        load_config("configs/demo.toml", ["corpus.unit_mb=0"])
    assert load_config("configs/demo.toml", ["corpus.unit_mb=0.5"]).corpus.unit_mb == 0.5


def _outputs(corpus: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(corpus.glob("*.txt.gz"))}


def test_stage_output_is_byte_identical_with_and_without_the_split(dump, tmp_path):
    sources = [{"name": "wiki", "kind": "wikipedia", "paths": [str(dump)]}]
    runs = {}
    for unit_mb in (UNIT_MB, 100.0):
        cfg = write_config(tmp_path / f"c{unit_mb}.toml", sources, f"shard_mb = 0.4\nunit_mb = {unit_mb}")
        work = tmp_path / f"w{unit_mb}"
        run_norlm("corpus", "--config", str(cfg), "--near-dedup", work=work)
        stats = json.loads((work / "corpus" / "stats.json").read_text())
        runs[unit_mb] = (_outputs(work / "corpus"), stats)
    (split, split_stats), (whole, whole_stats) = runs[UNIT_MB], runs[100.0]
    assert len(split) >= 2 and split == whole
    assert split_stats["total"] == whole_stats["total"] and split_stats["total"]["duplicates_within"] > 0
    a, b = split_stats["sources"]["wiki"], whole_stats["sources"]["wiki"]
    assert (a.pop("units"), b.pop("units")) == (len(plan((_source(dump),), UNIT_MB)[0]), 1)
    assert a == b
    part = json.loads((tmp_path / f"w{UNIT_MB}" / "corpus" / "parts" / "wiki" / "000001.json").read_text())
    assert part["span"] == list(plan((_source(dump),), UNIT_MB)[0][1].span)
    assert gzip.decompress(split["wiki-0000.txt.gz"]).count(b"\n\n") > 100  # documents, not an empty shard


def test_malformed_xml_in_a_range_is_bad_input_of_its_unit_only(dump, tmp_path):
    units, _ = plan((_source(dump),), UNIT_MB)
    data, k = dump.read_bytes(), len(units) // 2
    start, end = units[k].span
    broken = tmp_path / dump.name
    broken.write_bytes(data[:start] + bz2.compress(b"  <page>\n    <title>Brudd</title>\n    <revision><text>ord"
                                                   b"</revision>\n  </page>\n") + data[start:])
    units, _ = plan((_source(broken),), UNIT_MB)
    docs, issues = _read(units, _source(broken))
    bad = [i for i in issues if i.counts]
    assert len(bad) == 1 and bad[0].counts == {"malformed-xml": 1}
    assert bad[0].messages[0].startswith(f"{broken}: malformed-xml: bz2 streams at bytes {start}-")
    assert all(d for d, i in zip(docs, issues) if not i.counts)
