"""`evaluate` on the graph tasks end to end (tiny parser, data subsets, no LM): result file, prediction
files that the scorers re-score to the stored numbers, the up-to-date skip, and Tables 4 and 6."""
from __future__ import annotations

import pytest

from norlm.config import load_config
from norlm.evaluate.graph.graph_tables import graph_report_lines
from norlm.evaluate.graph.run import graph_seeds, run_graph
from norlm.evaluate.graph.score_negation import score_starsem
from norlm.evaluate.graph.score_cli import score_sentiment_files
from norlm.evaluate.graph.settings import GraphProtocol
from norlm.evaluate.runner import Runner
from norlm.files import read_json
from norlm.layout import layout_of

TINY = ["evaluate.graph.epochs=2", "evaluate.graph.train_sentences=120", "evaluate.graph.dev_sentences=40",
        "evaluate.graph.test_sentences=50", "evaluate.graph.lstm_layers=1", "evaluate.graph.lstm_hidden=16",
        "evaluate.graph.scorer_dim=16", "evaluate.graph.word_dim=16", "evaluate.graph.lemma_dim=16",
        "evaluate.graph.pos_dim=4", "evaluate.graph.char_dim=8", "evaluate.graph.char_hidden=8",
        "evaluate.graph.batch_size=20"]
NONE = {"name": "none", "kind": "none", "path": None, "pretrained": False, "label": "no LM", "explicit": True}


def test_graph_seeds_are_the_papers_first_n():
    p = GraphProtocol()
    assert graph_seeds(p, None, 1) == [1234]
    assert graph_seeds(p, 5, 1) == [1234, 5678, 9101112, 13141516, 17181920]
    assert graph_seeds(GraphProtocol(n_seeds=2), None, 3) == [1234, 5678]
    assert graph_seeds(p, 6, 1)[-1] == 17181921


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    cfg = load_config("configs/demo.toml", [f"run.work_dir={work}"] + TINY)
    lay = layout_of(cfg)
    runner = Runner(cfg, lay, [cfg.run.seed])
    entries = {task: run_graph(runner, dict(NONE), task) for task in ("finegrained", "negation")}
    return cfg, lay, runner, entries


def test_result_file_has_every_metric_per_seed_and_the_lemma_source(runs):
    _cfg, lay, _runner, entries = runs
    for task, headline in (("finegrained", "sf1"), ("negation", "full_negation_f1")):
        doc = read_json(lay.eval_result(task, "none"))
        e = doc["results"]["nob"]
        assert doc["lemma_source"].startswith("form->lemma lookup from the bundled NDT")
        assert e["protocol"]["lemma_source"] == doc["lemma_source"] and e["protocol"]["seeds"] == [1234]
        assert e["sizes"] == {"train": 120, "dev": 40, "test": 50}
        run = e["runs"][0]
        assert run["seed"] == 1234 and 1 <= run["best_epoch"] <= 2 and len(run["curve"]) == 2
        assert run["test"]["score"] == pytest.approx(run["test"][headline] / 100)
        assert e["summary"]["test_metrics"][headline]["mean"] == pytest.approx(run["test"][headline])
        assert "test" in e["trivial_baseline"] and e["protocol"]["lm_vectors"].startswith("none")
    fine = read_json(lay.eval_result("finegrained", "none"))["results"]["nob"]["runs"][0]["test"]
    assert set(fine) >= {"holder_f1", "target_f1", "expression_f1", "targeted_f1", "uf1", "lf1", "nsf1", "sf1",
                         "sf1_semeval2022", "nsf1_semeval2022"}
    neg = read_json(lay.eval_result("negation", "none"))["results"]["nob"]["runs"][0]["test"]
    assert set(neg) >= {"cue_f1", "scope_tokens_f1", "full_negation_f1"}
    assert neg["starsem"]["cues"]["gold"] > 0


def test_prediction_files_rescore_to_the_stored_numbers(runs):
    _cfg, lay, _runner, _entries = runs
    folder = lay.eval_task("finegrained") / "none" / "seed1234"
    stored = read_json(lay.eval_result("finegrained", "none"))["results"]["nob"]["runs"][0]["test"]
    again = score_sentiment_files(str(folder / "test.gold.conllu"), str(folder / "test.conllu"), "norlm2021",
                                  "head_final-inside_label")
    assert again["sf1"] == pytest.approx(stored["sf1"], abs=1e-3)
    assert (folder / "test.json").is_file()
    folder = lay.eval_task("negation") / "none" / "seed1234"
    stored = read_json(lay.eval_result("negation", "none"))["results"]["nob"]["runs"][0]["test"]
    table = score_starsem(folder / "test.gold.starsem", folder / "test.starsem")  # a subset: gold written beside
    assert table["full_negation"]["f1"] == stored["full_negation_f1"] and table["cues"]["f1"] == stored["cue_f1"]
    assert (folder / "test.json").is_file() and (folder / "test.conllu").is_file()


def test_unchanged_inputs_are_not_rerun(runs, capsys):
    _cfg, _lay, runner, entries = runs
    again = run_graph(runner, dict(NONE), "negation")
    assert "up to date" in capsys.readouterr().out
    assert again == entries["negation"]


def test_report_has_tables_4_and_6_with_published_rows(runs):
    _cfg, lay, _runner, _entries = runs
    text = "\n".join(graph_report_lines(lay))
    assert "### Table 4" in text and "### Table 6" in text
    assert "| NorBERT | paper | 63.0 | 56.4 |" in text and "| NorBERT | paper | 92.1 | 83.6 | 65.5 | 426 |" in text
    assert "| **no LM** | this run |" in text and "trivial baseline" in text
    assert "lemmas: form->lemma lookup" in text and "Dev labelled-arc F1 by epoch" in text
