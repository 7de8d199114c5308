"""Which models `norlm evaluate` runs on the graph tasks: [evaluate.graph] models for `--model all`,
"none" (no LM) only on the graph tasks, every explicit model on every task."""
from __future__ import annotations

from norlm.config import load_config
from norlm.evaluate.stage import _available, _wanted, resolve_models
from norlm.layout import layout_of


def test_none_model_runs_only_on_graph_tasks():
    cfg = load_config("configs/demo.toml")
    ecfg, lay = cfg.evaluate, layout_of(cfg)
    (none,) = resolve_models("none", ecfg, lay)
    assert none["kind"] == "none" and _available(none) is None
    assert _wanted(none, "negation", ecfg) and _wanted(none, "finegrained", ecfg)
    assert not _wanted(none, "pos", ecfg) and not _wanted(none, "sentiment", ecfg)


def test_all_uses_the_graph_model_list_for_graph_tasks():
    cfg = load_config("configs/demo.toml", ["evaluate.models=[\"bert\", \"baseline\"]"])
    ecfg, lay = cfg.evaluate, layout_of(cfg)
    assert ecfg.graph.models == ("bert", "elmo", "none") and "finegrained" in ecfg.tasks
    specs = {s["name"]: s for s in resolve_models("all", ecfg, lay)}
    assert not _wanted(specs["baseline"], "negation", ecfg) and _wanted(specs["baseline"], "ner", ecfg)
    assert _wanted(specs["bert"], "negation", ecfg) and _wanted(specs["bert"], "pos", ecfg)
    (explicit,) = resolve_models("baseline", ecfg, lay)
    assert _wanted(explicit, "negation", ecfg)
