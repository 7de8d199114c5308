"""The whole pipeline at smoke scale, through the Makefile exactly as `make demo` runs it:
every stage's outputs exist and load in the tools that consume them, and a second run does nothing."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import h5py
import pytest

from tests.conftest import REPO, VENV_BIN, norlm_env


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    work = tmp_path_factory.mktemp("smoke")
    env = norlm_env()
    env.pop("MAKEFLAGS", None)
    proc = subprocess.run(["make", "--no-print-directory", "report", "CONFIG=smoke", f"WORK={work}",
                           f"VENV={VENV_BIN.parent}"], cwd=REPO, capture_output=True, text=True,
                          timeout=float(os.environ.get("NORLM_SMOKE_TIMEOUT", 900)), env=env)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    return work, proc.stdout


def test_every_stage_ran_once_with_timings(chain):
    work, out = chain
    stages = [line.split("\t")[0] for line in (work / "timings.tsv").read_text().splitlines()]
    assert stages == ["corpus", "vocab", "bert-data", "bert-data", "bert-train", "bert-train", "bert-export",
                      "elmo-vocab", "elmo-train", "elmo-export", "evaluate", "report"]
    assert out.count(" done in ") == len(stages)


def test_corpus_and_vocab(chain):
    work, _ = chain
    stats = json.loads((work / "corpus/stats.json").read_text())
    assert sum(s["sentences"] for s in stats["sources"].values()) > 300
    shard = sorted((work / "corpus").glob("*.txt.gz"))[0]
    with gzip.open(shard, "rt", encoding="utf-8") as fh:
        text = fh.read()
    assert "\n\n" in text and text.strip()
    from norlm.vocab.tokenizer import load_tokenizer

    vocab = (work / "vocab/vocab.txt").read_text(encoding="utf-8").splitlines()
    assert vocab[0] == "[PAD]" and vocab[101:105] == ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(set(vocab)) == len(vocab)
    tok = load_tokenizer(work / "vocab")
    assert tok.get_vocab_size() == len(vocab)
    enc = tok.encode("Jeg bor i Oslo.")
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"


def test_pretraining_data_and_training(chain):
    work, _ = chain
    for phase in (1, 2):
        manifest = json.loads((work / f"bert/tfrecords/phase{phase}/manifest.json").read_text())
        assert manifest["instances"] > 0
        final = json.loads((work / f"bert/phase{phase}/final.json").read_text())
        assert final["global_step"] == final["train_steps"]
        assert (work / f"bert/phase{phase}/dllog.json").read_text().startswith("DLLL ")
    p1 = json.loads((work / "bert/phase1/final.json").read_text())
    p2 = json.loads((work / "bert/phase2/final.json").read_text())
    assert p2["global_step"] > p1["global_step"]  # phase 2 continues phase 1's step counter


def test_bert_export_loads_in_transformers(chain):
    work, _ = chain
    hf = work / "bert/export/hf"
    code = ("import sys, torch; from transformers import AutoModelForPreTraining, AutoTokenizer; "
            f"m = AutoModelForPreTraining.from_pretrained('{hf}'); t = AutoTokenizer.from_pretrained('{hf}'); "
            "b = t(['Jeg bor i Oslo .'], return_tensors='pt'); o = m(**b); "
            "print(tuple(o.prediction_logits.shape), tuple(o.seq_relationship_logits.shape))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=norlm_env(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    vocab_size = len((hf / "vocab.txt").read_text(encoding="utf-8").splitlines())
    shape = proc.stdout.strip().splitlines()[-1]
    assert shape.endswith(f", {vocab_size}) (1, 2)")
    import tensorflow as tf

    names = {name for name, _ in tf.train.list_variables(str(work / "bert/export/tf1"))}
    assert "bert/embeddings/word_embeddings" in names and not any("adam" in n for n in names)


def test_elmo_export_loads(chain):
    work, _ = chain
    export = work / "elmo/export"
    options = json.loads((export / "options.json").read_text())
    assert options["char_cnn"]["n_characters"] == 262
    with h5py.File(export / "model.hdf5", "r") as h5:
        assert h5["char_embed"].shape[0] == 261
    from norlm.elmo.embed import ElmoEmbedder

    vectors = ElmoEmbedder(export).embed([["Jeg", "bor", "i", "Oslo", "."], ["Hei"]], layers="all")
    assert vectors.shape[:3] == (2, options["lstm"]["n_layers"] + 1, 5)
    assert vectors.shape[3] == 2 * options["lstm"]["projection_dim"]
    assert (vectors[1, :, 1:] == 0).all() and (vectors[1, :, 0] != 0).any()


def test_evaluation_and_report(chain):
    work, _ = chain
    for task in ("pos", "ner", "sentiment"):
        for model in ("bert", "elmo", "baseline"):
            result = json.loads((work / f"eval/{task}/{model}.json").read_text())
            assert result["task"] == task
    for task in ("finegrained", "negation"):  # Tables 4 and 6: the smoke config's BERT and ELMo rows
        for model in ("bert", "elmo"):
            entry = json.loads((work / f"eval/{task}/{model}.json").read_text())["results"]["nob"]
            assert entry["sizes"] == {"train": 48, "dev": 24, "test": 48}
            assert len(entry["runs"]) == 1 and 1 <= entry["runs"][0]["best_epoch"] <= 2
    report = (work / "eval/report.md").read_text()
    assert "Table 2" in report and "Table 3" in report and "Table 5" in report
    assert "### Table 4 — Fine-grained sentiment" in report and "### Table 6 — Negation" in report
    demo = (work / "demo/report.md").read_text()
    for heading in ("## Corpus", "## Vocabulary", "## Pretraining", "## Evaluation", "## Stage timings",
                    "### Table 4 — Fine-grained sentiment", "### Table 6 — Negation",
                    "**Learning signals against chance**"):
        assert heading in demo
    html = (work / "demo/report.html").read_text()
    assert html.count("data:image/png;base64,") >= 2


def test_second_run_is_up_to_date(chain):
    work, _ = chain
    proc = subprocess.run(["make", "--no-print-directory", "-q", f"{work}/demo/report.md", "CONFIG=smoke", f"WORK={work}",
                           f"VENV={VENV_BIN.parent}"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "make -q says something is out of date:\n" + proc.stdout + proc.stderr
