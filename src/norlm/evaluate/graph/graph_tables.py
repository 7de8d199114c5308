"""Tables 4 (fine-grained sentiment) and 6 (negation) of the paper for WORK/eval/report.md, our rows
beside the published ones, plus the trivial baseline, the per-epoch dev curves (as Figure 2) and
the protocol notes (lemma substitute, data subsets, epochs)."""
from __future__ import annotations

import json

from norlm.errors import warn
from norlm.files import read_json

# published test scores (graph-tasks spec section 1); Time has no unit in the paper
PUBLISHED_T4 = {
    "Extraction (Øvrelid et al. 2020)": (42.4, 31.3, 31.3, None, None, None, None, None, None),
    "NorELMo30": (55.1, 55.3, 57.2, 37.9, 49.0, 41.2, 40.9, 34.5, 446),
    "NorELMo100": (58.8, 55.8, 56.8, 37.1, 49.7, 41.2, 41.5, 34.2, 434),
    "mBERT": (57.1, 55.2, 56.3, 34.8, 48.7, 38.3, 40.5, 31.7, 444),
    "NB-BERT": (61.3, 56.1, 57.9, 36.0, 49.7, 41.9, 40.7, 34.8, 404),
    "NorBERT": (63.0, 56.4, 58.1, 36.9, 50.5, 42.2, 41.0, 34.8, 438),
}
PUBLISHED_T6 = {"NorELMo30": (91.7, 80.6, 63.8, 428), "NorELMo100": (92.2, 81.3, 65.5, 407),
                "mBERT": (92.8, 84.0, 65.9, 353), "NB-BERT": (92.4, 83.1, 63.5, 342), "NorBERT": (92.1, 83.6, 65.5, 426)}
T4_KEYS = ("holder_f1", "target_f1", "expression_f1", "targeted_f1", "uf1", "lf1", "nsf1", "sf1")
T4_HEAD = ("Holder F1", "Target F1", "Exp. F1", "Targeted F1", "UF1", "LF1", "NSF1", "SF1")
T6_KEYS = ("cue_f1", "scope_tokens_f1", "full_negation_f1")
ORDER = {"bert": 0, "elmo": 1, "baseline": 2, "none": 3}


def load_graph_results(lay) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for task in ("finegrained", "negation"):
        for path in sorted(lay.eval_task(task).glob("*.json")):
            try:
                doc = read_json(path)
            except json.JSONDecodeError as exc:
                warn(f"{path}: unreadable result ({exc}); left out of the report")
                continue
            if doc.get("results", {}).get("nob"):
                out.setdefault(task, {})[path.stem] = doc
    return out


def _cell(metrics: dict, key: str, n_seeds: int) -> str:
    m = metrics.get(key)
    if m is None:
        return "–"
    return f"{m['mean']:.1f}" + (f" ± {m['sd']:.1f}" if n_seeds > 1 else "")


def _ours(task: str, docs: dict[str, dict], keys: tuple[str, ...], extra: tuple[str, ...]) -> list[str]:
    rows = []
    for model in sorted(docs, key=lambda m: (ORDER.get(m, 9), m)):
        doc = docs[model]
        e = doc["results"]["nob"]
        s, n = e["summary"], len(e["runs"])
        cells = [f"**{doc.get('label', model)}**", "this run", *[_cell(s["test_metrics"], k, n) for k in keys],
                 f"{s['seconds_mean'] / 60:.1f}", *[_cell(s["test_metrics"], k, n) for k in extra], str(n),
                 "/".join(str(r["best_epoch"]) for r in e["runs"])]
        rows.append("| " + " | ".join(cells) + " |")
    first = docs[sorted(docs)[0]]["results"]["nob"]
    base = first.get("trivial_baseline", {}).get("test", {})
    if base:
        cells = ["trivial baseline (train lexicon of one-token roots)", "this run",
                 *[f"{base[k]:.1f}" if k in base else "–" for k in keys], "", *[f"{base[k]:.1f}" for k in extra
                                                                                  if k in base], "", ""]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _published(table: dict, width_extra: int) -> list[str]:
    rows = []
    for name, values in table.items():
        cells = [name, "paper", *["–" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))
                                  for v in values], *[""] * width_extra]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _curves(task: str, docs: dict[str, dict]) -> list[str]:
    """Dev labelled-arc F1 per epoch (mean over seeds), at most 10 evenly spaced epochs."""
    lines = []
    for model in sorted(docs, key=lambda m: (ORDER.get(m, 9), m)):
        runs = docs[model]["results"]["nob"]["runs"]
        n_ep = min(len(r["curve"]) for r in runs)
        if not n_ep:
            continue
        step = max(1, -(-n_ep // 10))
        epochs = sorted(set(list(range(step, n_ep + 1, step)) + [n_ep]))
        if not lines:
            lines = [f"Dev labelled-arc F1 by epoch ({task}, mean over seeds; cf. the paper's Figure 2):", "",
                     "| model | " + " | ".join(f"ep {e}" for e in epochs) + " |", "|---|" + "---|" * len(epochs)]
        vals = [sum(r["curve"][e - 1]["dev"] for r in runs) / len(runs) for e in epochs]
        lines.append(f"| {docs[model].get('label', model)} | " + " | ".join(f"{100 * v:.1f}" for v in vals) + " |")
    return lines + [""] if lines else []


def _notes(docs: dict[str, dict]) -> list[str]:
    doc = docs[sorted(docs)[0]]
    e = doc["results"]["nob"]
    p = e["protocol"]
    sizes, full = e["sizes"], e["sizes_full"]
    lines = [f"Protocol: {e['data_protocol']}; train/dev/test {sizes['train']}/{sizes['dev']}/{sizes['test']} of "
             f"{full['train']}/{full['dev']}/{full['test']} sentences; {p['epochs']} epochs, batch {p['batch_size']}, "
             f"{p['lstm_layers']} x {p['lstm_hidden']} BiLSTM, scorer {p['scorer_dim']}, encoding "
             f"{p['encoding']}; seeds {', '.join(str(s) for s in p['seeds'])}; lemmas: {p['lemma_source']}; "
             f"POS: {p['pos_source']}; external word vectors: {p['external_word_vectors']}. Time: minutes per run "
             "(LM vectors plus parser training); the paper's Time column has no unit."]
    lines += [f"- {n}" for n in e.get("notes", [])]
    return lines + [""]


def graph_report_lines(lay) -> list[str]:
    """Markdown for Tables 4 and 6 (empty when no graph result exists)."""
    results = load_graph_results(lay)
    lines = []
    if "finegrained" in results:
        docs = results["finegrained"]
        head = ["model", "source", *T4_HEAD, "Time", "SF1 (SemEval-22 scorer)", "seeds", "best epoch(s)"]
        lines += ["### Table 4 — Fine-grained sentiment (NoReC_fine test; NorLM-era scorer, SemEval-2022 SF1 beside)",
                  "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head),
                  *_ours("finegrained", docs, T4_KEYS, ("sf1_semeval2022",)), *_published(PUBLISHED_T4, 3), "",
                  *_notes(docs), *_curves("finegrained", docs)]
    if "negation" in results:
        docs = results["negation"]
        head = ["model", "source", "CUE", "ST", "FN", "Time", "seeds", "best epoch(s)"]
        lines += ["### Table 6 — Negation (NoReC_neg test; *SEM 2012 scorer: cues, scope tokens, full negation F1)",
                  "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head),
                  *_ours("negation", docs, T6_KEYS, ()), *_published(PUBLISHED_T6, 2), "",
                  *_notes(docs), *_curves("negation", docs)]
    return lines
