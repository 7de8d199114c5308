"""report.md renders paper-shaped tables, mean ± sd over seeds, gains and the protocol notes."""
from __future__ import annotations

from norlm.evaluate.eval_report import write_report
from norlm.layout import Layout
from norlm.evaluate.results import fingerprint, load_entry, summarise, write_result


def _entry(scores, seconds=10.0):
    runs = [{"seed": i, "best_epoch": 2, "dev": {"score": s}, "test": {"score": s}, "seconds": seconds}
            for i, s in enumerate(scores)]
    return {"fingerprint": "x", "data_protocol": "demo, subsets", "notes": ["train: subset of 5 of 10 sentences"],
            "sizes": {"train": 5, "dev": 2, "test": 3}, "sizes_full": {"train": 10, "dev": 4, "test": 6},
            "protocol": {"epochs": 3, "batch_size": 8, "learning_rate": 5e-4}, "runs": runs,
            "summary": summarise(runs)}


def test_summary_is_mean_and_sample_sd():
    s = _entry([0.8, 0.9, 1.0])["summary"]
    assert abs(s["test_mean"] - 0.9) < 1e-12 and abs(s["test_sd"] - 0.1) < 1e-12 and s["seeds"] == [0, 1, 2]


def test_graph_tables(tmp_path):
    eval_dir = tmp_path / "eval"
    header = {"kind": "bert", "model_source": "/m"}
    write_result(eval_dir / "pos" / "bert.json", {**header, "label": "BERT (this run)"}, "nob", _entry([0.95, 0.97]))
    write_result(eval_dir / "pos" / "bert.json", {**header, "label": "BERT (this run)"}, "nno", _entry([0.93]))
    write_result(eval_dir / "pos" / "baseline.json", {**header, "label": "baseline"}, "nob", _entry([0.90]))
    write_result(eval_dir / "sentiment" / "elmo.json", {"kind": "elmo", "label": "ELMo (this run)"}, "nob",
                 _entry([0.7]))
    text = write_report(Layout(tmp_path), "demo", ["model skipped: x"]).read_text()
    assert "| **BERT (this run)** | this run | 96.0 ± 1.4 | 93.0 | 2 | 2/2, 2 | 10 |" in text
    assert "| **baseline** | this run | 90.0 | – | 1 | 2 | 10 |" in text
    assert text.index("BERT (this run)") < text.index("| Stanza | paper | 98.3 | 97.9 |")
    assert "| **ELMo (this run)** | this run | 70.0 | 1 | 2 | 10 |" in text
    assert "| NB-BERT | paper | 83.9 |" in text and "Table 3" not in text
    assert ("| pos | nob | BERT (this run) | fine-tuning (every weight) | 96.0 ± 1.4 | 90.0 | +6.0 | one seed "
            "| one seed: no verdict |") in text
    assert "train: subset of 5 of 10 sentences" in text and "> model skipped: x" in text


def test_entries_are_kept_per_language_and_matched_by_fingerprint(tmp_path):
    path = tmp_path / "ner" / "bert.json"
    fp = fingerprint("a", 1)
    write_result(path, {"task": "ner"}, "nob", {**_entry([0.5]), "fingerprint": fp})
    write_result(path, {"task": "ner"}, "nno", {**_entry([0.6]), "fingerprint": "other"})
    assert load_entry(path, "nob", fp)["summary"]["test_mean"] == 0.5
    assert load_entry(path, "nob", fingerprint("a", 2)) is None
    assert load_entry(path, "nno", fp) is None
