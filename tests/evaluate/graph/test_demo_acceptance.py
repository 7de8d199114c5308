"""Acceptance: the no-LM parser under the demo protocol (configs/demo.toml [evaluate.graph]) beats the
trivial baseline (a train lexicon of one-token roots) on the headline metric of both tasks:
SF1 (NorLM-era scorer) for fine-grained sentiment, full-negation F1 for negation."""
from __future__ import annotations

import pytest

from norlm.config import load_config
from norlm.evaluate.graph.run import run_graph
from norlm.evaluate.runner import Runner
from norlm.layout import layout_of

NONE = {"name": "none", "kind": "none", "path": None, "pretrained": False, "label": "no LM", "explicit": True}


@pytest.mark.slow
def test_demo_no_lm_parser_beats_the_trivial_baseline(tmp_path):
    cfg = load_config("configs/demo.toml", [f"run.work_dir={tmp_path}"])
    runner = Runner(cfg, layout_of(cfg), [cfg.run.seed])
    for task, key, margin in (("finegrained", "sf1", 2.0), ("negation", "full_negation_f1", 10.0)):
        entry = run_graph(runner, dict(NONE), task)
        ours, base = entry["runs"][0]["test"], entry["trivial_baseline"]["test"]
        assert entry["sizes"] == {"train": 1500, "dev": 300, "test": 1272}
        assert ours[key] > base[key] + margin, (task, ours[key], base[key])
    # negation: the parser also finds scopes, which the lexicon cannot
    assert ours["scope_tokens_f1"] > 40 > base["scope_tokens_f1"]
