"""`WORK/eval/report.md`: tables shaped like the paper's Tables 2 (POS), 3 (NER) and 5 (sentiment),
our rows next to the published numbers (Kutuzov et al., NoDaLiDa 2021)."""
from __future__ import annotations

import json
from pathlib import Path

from norlm.errors import warn
from norlm.evaluate.graph.graph_tables import graph_report_lines
from norlm.evaluate.twins import gain_lines, model_name
from norlm.layout import Layout
from norlm.files import atomic_open, read_json

# published test scores (percent): POS accuracy BM/NN, NER F1 BM/NN, sentiment macro F1
PUBLISHED = {
    "pos": {"Stanza": (98.3, 97.9), "NorELMo30": (98.1, 97.4), "NorELMo100": (98.0, 97.4), "mBERT": (98.0, 97.9),
            "NB-BERT": (98.7, 98.3), "NorBERT": (98.5, 98.0)},
    "ner": {"NorELMo30": (79.9, 75.6), "NorELMo100": (81.3, 75.1), "mBERT": (78.8, 81.7), "NB-BERT": (90.2, 88.6),
            "NorBERT": (85.5, 82.8)},
    "sentiment": {"NorELMo30": (75.0,), "NorELMo100": (75.0,), "mBERT": (67.7,), "NB-BERT": (83.9,),
                  "NorBERT": (77.1,)},
}
TITLES = {
    "pos": ("Table 2 — POS tagging (UPOS accuracy, UD 2.7 test)", "accuracy"),
    "ner": ("Table 3 — Named entity recognition (NorNE test, strict micro F1 over 8 types, MISC ignored)", "F1"),
    "sentiment": ("Table 5 — Binary sentence-level sentiment (NoReC_sentence test, macro F1)", "F1"),
}
MODEL_ORDER = {"bert": 0, "elmo": 1, "baseline": 2, "bert-frozen": 3, "baseline-frozen": 4, "elmo-random": 5}


def _cell(entry: dict | None) -> str:
    if not entry:
        return "–"
    s = entry["summary"]
    text = f"{100 * s['test_mean']:.1f}"
    if len(s["seeds"]) > 1:
        text += f" ± {100 * s['test_sd']:.1f}"
    return text


def _time(entries: list[dict | None]) -> str:
    times = [e["summary"]["seconds_mean"] for e in entries if e]
    return f"{sum(times) / len(times):.0f}" if times else "–"


def load_results(lay: Layout) -> dict[str, dict[str, dict]]:
    """{task: {model: document}} from every result file of the layout's eval folder."""
    out: dict[str, dict[str, dict]] = {}
    for task in TITLES:
        for path in sorted(lay.eval_task(task).glob("*.json")):
            try:
                out.setdefault(task, {})[path.stem] = read_json(path)
            except json.JSONDecodeError as exc:
                warn(f"{path}: unreadable result ({exc}); left out of the report")
    return out


def _table(task: str, docs: dict[str, dict]) -> list[str]:
    title, metric = TITLES[task]
    langs = ("nob", "nno") if task != "sentiment" else ("nob",)
    head = ["model", "source"] + ([f"BM {metric}", f"NN {metric}"] if task != "sentiment" else [metric])
    head += ["seeds", "best epoch(s)", "time per run (s)"]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model in sorted(docs, key=lambda m: (MODEL_ORDER.get(m, 9), m)):
        doc = docs[model]
        entries = [doc.get("results", {}).get(lang) for lang in langs]
        seeds = max((len(e["summary"]["seeds"]) for e in entries if e), default=0)
        epochs = ", ".join("/".join(str(r["best_epoch"]) for r in e["runs"]) for e in entries if e)
        cells = [f"**{model_name(model, doc)}**", "this run", *[_cell(e) for e in entries], str(seeds),
                 epochs or "–", _time(entries)]
        lines.append("| " + " | ".join(cells) + " |")
    for name, scores in PUBLISHED[task].items():
        lines.append("| " + " | ".join([name, "paper", *[f"{s:.1f}" for s in scores], "", "", ""]) + " |")
    lines.append("")
    return lines


def _protocol_lines(results: dict[str, dict[str, dict]]) -> list[str]:
    lines = ["## Protocols and data used by this run", ""]
    for task, docs in results.items():
        for model, doc in sorted(docs.items()):
            for lang, entry in sorted(doc.get("results", {}).items()):
                sizes = entry.get("sizes", {})
                facts = entry.get("protocol", {})
                full = entry.get("sizes_full", {})
                lines.append(f"- **{task} / {model_name(model, doc)} / {lang}** — {entry.get('data_protocol', '?')} "
                             f"protocol; train/dev/test sentences {sizes.get('train')}/{sizes.get('dev')}/"
                             f"{sizes.get('test')} (of {full.get('train')}/{full.get('dev')}/{full.get('test')}); "
                             f"epochs {facts.get('epochs')}, "
                             f"batch {facts.get('batch_size')}, lr {facts.get('learning_rate')}; "
                             f"model {doc.get('model_source', '')}")
                for note in entry.get("notes", []):
                    lines.append(f"  - {note}")
    lines.append("")
    return lines


def write_report(lay: Layout, run_name: str, extra_notes: list[str] | None = None) -> Path:
    """Render every result of the layout's eval folder into report.md (written last; Make's completion file)."""
    results = load_results(lay)
    lines = [f"# Evaluation report — {run_name}", "",
             "Scores are percentages on the test split, mean ± sd over seeds when more than one seed ran; "
             "the model of each seed is the epoch with the best dev score. \"paper\" rows are the published "
             "numbers of Kutuzov et al. (NoDaLiDa 2021) for full-size models trained on full data; rows of "
             "this run use the protocol listed below (a demo run uses data subsets and few epochs, so its "
             "numbers are not comparable to the paper's, only to each other). Time is the wall-clock "
             "adaptation time per run (fine-tuning, or feature extraction plus classifier training).", ""]
    for note in extra_notes or []:
        lines.append(f"> {note}")
    if extra_notes:
        lines.append("")
    for task in TITLES:
        if task in results:
            lines.extend(_table(task, results[task]))
    lines.extend(graph_report_lines(lay))  # Tables 4 and 6 (norlm.evaluate.graph)
    lines.extend(gain_lines(results))
    lines.extend(_protocol_lines(results))
    path = lay.eval_report
    with atomic_open(path) as fh:
        fh.write("\n".join(lines))
    return path
