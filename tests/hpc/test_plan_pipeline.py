"""`norlm plan` for the whole pipeline: every stage the config runs is estimated and names its basis,
the CPU stages follow the per-core rates by hand, the totals follow the stage graph, and the input
pipelines feed every profile's GPUs with at least 2x margin."""
from __future__ import annotations

import json

import pytest

from norlm.config import load_config
from norlm.hpc.estimate import PAPER_BYTES
from norlm.hpc.feed import Feed
from norlm.hpc.cpu_cost import SENTENCES_PER_BYTE, segmenter_cost
from norlm.hpc.plan import feeds, plan
from norlm.hpc.plan_format import CLUSTERS, totals
from norlm.hpc.profile import load_profile
from norlm.scale_rates import load_rates

from tests.conftest import REPO, run_norlm

CONFIGS = ("norbert1", "norelmo30", "norelmo100")
BASES = ("measured here", "measured elsewhere", "assumed")


def _plans(name: str, cluster: str):
    cfg = load_config(REPO / "configs" / f"{name}.toml")
    profile = load_profile(cluster)
    return cfg, profile, plan(cfg, profile)


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("cluster", CLUSTERS)
def test_every_stage_estimated_with_its_basis(name, cluster):
    cfg, profile, plans = _plans(name, cluster)
    labels = [p.label for p in plans]
    if name == "norbert1":
        assert labels == ["corpus", "vocab", "bert-data-p1", "bert-data-p2", "bert-train-p1", "bert-train-p2",
                          "bert-export", "evaluate"]
    else:  # an ELMo config runs no BERT stage
        assert labels == ["corpus", "elmo-vocab", "elmo-train", "elmo-export", "evaluate"]
    for item in plans:
        assert item.hours > 0 and item.jobs >= 1, item.label
        assert any(b in item.basis for b in BASES), (item.label, item.basis)
        assert (item.gpu_hours > 0) == (item.job.kind == "gpu"), item.label
    t = totals(plans)
    assert t.gpu_hours == pytest.approx(sum(p.gpu_hours for p in plans))
    assert max(p.hours for p in plans) < t.critical_hours <= sum(p.hours for p in plans) + 1e-9


def test_stanza_cost_from_the_measured_sentence_rates():
    rate = load_rates()["corpus"]
    rows = rate.extra["segmentation"]["rows"]
    stanza, punkt = rows["stanza (trained here)"]["sentences_per_cpu_s"], rows["punkt (baseline)"]["sentences_per_cpu_s"]
    seconds, _ = segmenter_cost(rate, "stanza", 12e9)
    assert seconds == pytest.approx(12e9 * SENTENCES_PER_BYTE * (1 / stanza - 1 / punkt))
    assert 202e6 < 12e9 * SENTENCES_PER_BYTE < 203e6  # the paper's 202.8 M sentences
    assert segmenter_cost(rate, "punkt", 12e9)[0] == 0.0


def test_cpu_stages_by_hand():
    cfg, _, plans = _plans("norbert1", "saga")
    rates, by = load_rates(), {p.label: p for p in plans}
    # corpus: 20 ranks x 1 worker each on one node; 12 GB of text at the measured MB per CPU-second
    corpus = by["corpus"]
    stanza_s, note = segmenter_cost(rates["corpus"], cfg.corpus.segmenter, PAPER_BYTES)
    assert cfg.corpus.segmenter == "stanza" and stanza_s > 0 and note.startswith("stanza segmentation adds")
    assert corpus.hours == pytest.approx((PAPER_BYTES / 1e6 / rates["corpus"].mb_per_cpu_s + stanza_s) / 20 / 3600)
    assert corpus.core_hours == pytest.approx(corpus.hours * 20 * 2)  # 20 tasks x 2 CPUs allocated
    assert corpus.disk_gb == pytest.approx(PAPER_BYTES * rates["corpus"].out_bytes_per_in_byte / 1e9)
    assert corpus.nodes_to_fit == 1 and by["bert-train-p1"].nodes_to_fit == 4  # 265 h: 4 nodes fit 14 days
    # vocab is one process whatever the cores
    assert by["vocab"].hours == pytest.approx(PAPER_BYTES / 1e6 / rates["vocab"].mb_per_cpu_s / 3600)
    # bert-data phase 1: 2 array tasks x 24 ranks, time and output x dupe 10 / the measured dupe
    p1, rate = by["bert-data-p1"], rates["bert-data-phase1"]
    scale = 10 / rate.dupe_factor if (rate.extra or {}).get("max_seq_length", 128) == 128 else None
    if scale:  # measured at 128/20: only the dupe factor differs
        assert p1.hours == pytest.approx(PAPER_BYTES / 1e6 / rate.mb_per_cpu_s * scale / 48 / 3600)
        assert p1.disk_gb == pytest.approx(PAPER_BYTES * rate.out_bytes_per_in_byte * scale / 1e9)
    # phase 2 (512/77, dupe 6): its own measured rate when the rates file has one (its padding depends
    # on the documents' lengths), else derived from phase 1 by (3L+3P)/L per token: about 6/10 of it
    p2, rate2 = by["bert-data-p2"], rates.get("bert-data-phase2")
    if rate2 and (rate2.extra or {}).get("max_seq_length") == 512 and rate2.dupe_factor == 6:
        assert p2.disk_gb == pytest.approx(PAPER_BYTES * rate2.out_bytes_per_in_byte / 1e9)
    else:
        assert 0.5 < p2.disk_gb / p1.disk_gb < 0.7
    assert note in by["corpus"].notes  # rates measured with punkt: Stanza's measured cost added and said so


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_input_pipelines_feed_every_profile(cluster):
    for name in ("norbert1", "norelmo30"):
        cfg, profile, plans = _plans(name, cluster)
        out = feeds(cfg, profile, plans)
        assert {f.stage for f in out} == ({"bert-train-p1", "bert-train-p2"} if name == "norbert1" else {"elmo-train"})
        for feed in out:
            assert feed.ratio >= 2.0, feed.line()
            assert "ok" in feed.line()


def test_feed_warns_below_margin():
    feed = Feed("bert-train-p1", "seq/s", demand=1000.0, cores=6, per_core=150.0, basis="test")
    assert feed.ratio == pytest.approx(0.9) and "WARNING: below 2x" in feed.line()


def test_compare_prints_every_cluster(tmp_path):
    out = run_norlm("plan", "--config", str(REPO / "configs" / "norelmo30.toml"), "--compare", work=tmp_path).stdout
    rows = [line for line in out.splitlines() if line.startswith("| ") and "cluster" not in line]
    assert [r.split(" | ")[0][2:] for r in rows] == list(CLUSTERS)
    data = json.loads(run_norlm("plan", "--config", str(REPO / "configs" / "norelmo30.toml"), "--cluster", "lumi",
                                "--json", work=tmp_path).stdout)
    assert "not estimated" not in json.dumps(data) and data["totals"]["billing"] > 0
    assert [f["stage"] for f in data["feeds"]] == ["elmo-train"]


def test_plan_imports_only_the_standard_library():
    """Plans are made on login nodes: the whole plan, README table included, without numpy or TensorFlow."""
    import subprocess
    import sys

    code = ("import sys; from norlm.hpc.plan_readme import readme_table; readme_table(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'tensorflow', 'tqdm', 'mpi4py'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert proc.stdout.strip() == "[]"
