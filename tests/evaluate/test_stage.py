"""`norlm evaluate` end to end on an imported, randomly initialised Hugging Face BERT (the path a
cluster user takes with mBERT / NB-BERT / NorBERT), plus its first-sub-word encoding."""
from __future__ import annotations

import json

import pytest

from tests.conftest import run_norlm


def test_first_subword_positions_and_truncation(tiny_hf_bert):
    from norlm.evaluate.bert_finetune import encode_examples
    from norlm.evaluate.bert_models import load_bert
    from norlm.evaluate.readers import TaggedSentence
    from norlm.evaluate.tasks import TaskData

    bundle = load_bert(tiny_hf_bert, pretrained=True)
    words = ["Lillehammer-ordføreren", "sa", "nei", "."]
    sent = TaggedSentence(words, ["NOUN", "VERB", "ADV", "PUNCT"])
    task = TaskData("pos", "nob", [sent], [], [], ["ADV", "NOUN", "PUNCT", "VERB"], "demo")
    (ex,), cut = encode_examples(bundle, [sent], task, max_length=128)
    tokens = [bundle.tokenizer.id_to_token(int(i)) for i in ex.inputs["input_ids"]]
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and cut == 0
    first = ex.inputs["first"]
    assert list(first[:1]) == [1] and all(not tokens[p].startswith("##") for p in first)
    assert [tokens[p] for p in first[1:]] == ["sa", "nei", "."]
    assert list(ex.inputs["labels"]) == [1, 3, 0, 2]
    # with room for [CLS] + 3 tokens + [SEP], later words are cut and counted
    (short,), cut = encode_examples(bundle, [sent], task, max_length=5)
    assert len(short.inputs["input_ids"]) == 5 and cut == int((short.inputs["first"] < 0).sum()) > 0


@pytest.mark.slow
def test_evaluate_imported_hf_bert_end_to_end(tiny_hf_bert, tmp_path):
    work = tmp_path / "work"
    args = ["evaluate", "--config", "configs/smoke.toml", "--model", str(tiny_hf_bert), "--task", "all",
            "--lang", "nob"]
    run_norlm(*args, work=work)
    name = tiny_hf_bert.name
    docs = {t: json.loads((work / "eval" / t / f"{name}.json").read_text()) for t in ("pos", "ner", "sentiment")}
    pos = docs["pos"]["results"]["nob"]
    assert docs["pos"]["pretrained"] is True and docs["pos"]["kind"] == "bert"
    assert pos["sizes"] == {"train": 64, "dev": 32, "test": 64}
    assert pos["data_protocol"] == "demo, subsets" and pos["sizes_full"]["test"] == 1939
    run = pos["runs"][0]
    assert run["seed"] == 12345 and 1 <= run["best_epoch"] <= 2 and len(run["curve"]) == 2
    assert 0.0 < run["test"]["accuracy"] <= 1.0 and run["test"]["tokens"] > 500
    assert run["seconds"] > 0 and pos["summary"]["test_mean"] == run["test"]["accuracy"]
    assert "NOUN" in run["test"]["per_class"]
    ner = docs["ner"]["results"]["nob"]["runs"][0]["test"]
    assert set(ner) >= {"precision", "recall", "f1", "per_class"}
    sentiment = docs["sentiment"]["results"]["nob"]["runs"][0]["test"]
    assert set(sentiment["per_class"]) == {"negative", "positive"}
    assert docs["ner"]["versions"]["tensorflow-cpu"].startswith("2.18")
    report = (work / "eval" / "report.md").read_text()
    assert "Table 2" in report and "Table 3" in report and "Table 5" in report
    assert f"{name} (imported)" in report and "| NorBERT | paper | 85.5 | 82.8 |" in report
    assert (work / "eval" / "run-evaluate.json").is_file()

    # a rerun with unchanged inputs is skipped; a forced rerun repeats the same numbers
    again = run_norlm(*args, work=work)
    assert again.stdout.count("is up to date") == 5  # pos, ner, sentiment and the graph tasks (issue 19)
    assert "### Table 4" in report and "### Table 6" in report
    forced = run_norlm(*args[:-4], "--task", "pos", "--lang", "nob", "--force", work=work)
    assert "is up to date" not in forced.stdout
    redo = json.loads((work / "eval" / "pos" / f"{name}.json").read_text())["results"]["nob"]
    assert redo["runs"][0]["test"]["accuracy"] == run["test"]["accuracy"]
    assert redo["runs"][0]["curve"][0]["train_loss"] == run["curve"][0]["train_loss"]


def test_missing_model_is_a_clear_error(tmp_path):
    proc = run_norlm("evaluate", "--config", "configs/smoke.toml", "--model", "bert", "--task", "pos",
                     work=tmp_path / "w", check=False)
    assert proc.returncode == 1
    assert "bert/export/hf/config.json not found" in proc.stderr
    assert not (tmp_path / "w" / "eval" / "report.md").exists()
