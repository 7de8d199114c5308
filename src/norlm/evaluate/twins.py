"""\"What pretraining bought\": every (model, protocol) pair against its own untrained twin.

A gain means something only against the same model without its pretraining, adapted the same way:
BERT fine-tuned against the random-init BERT fine-tuned, BERT's frozen features against the
random-init BERT's, ELMo's frozen features against the untrained ELMo's (the weights elmo-train
started from).  Each gain carries its seeds and spread.  A verdict needs the spread measured in the
same run: a one-seed row shows its difference and no verdict, since one seed of fine-tuning on small
data moved by up to 15.7 points on another CPU with the same pretrained weights (logs/demo/FINDINGS.md).
"""
from __future__ import annotations

import math

FINETUNE = "fine-tuning (every weight)"
FROZEN_ELMO = "frozen features: layer average → FFN (POS, NER), top layer → BiLSTM (sentiment)"
FROZEN_BERT = "frozen features: last layer, word = mean of pieces → the same classifiers as ELMo"
TWINS = {"bert": ("baseline", FINETUNE), "bert-frozen": ("baseline-frozen", FROZEN_BERT),
         "elmo": ("elmo-random", FROZEN_ELMO)}
TWIN_NAMES = {twin for twin, _ in TWINS.values()}


def model_name(model: str, doc: dict) -> str:
    """A model's name in the report's tables (its result's label, e.g. "untrained ELMo twin"); the gain
    rows and the report's figures take it from here too, so the names cannot drift apart."""
    return doc.get("label", model)


def twin_of(model: str, doc: dict) -> tuple[str, str] | None:
    """(twin model name, protocol) of a result document, or None (a twin, or nothing to compare)."""
    if model in TWINS:
        return TWINS[model]
    if model in TWIN_NAMES or doc.get("kind") != "bert" or doc.get("frozen"):
        return None
    return "baseline", FINETUNE  # an imported BERT, fine-tuned


ONE_SEED = "one seed: no verdict"
GAIN, LOSS, TIE = "gain beyond 2 × sd", "loss beyond 2 × sd", "not distinguishable"


def _score(summary: dict) -> str:
    text = f"{100 * summary['test_mean']:.1f}"
    return text + (f" ± {100 * summary['test_sd']:.1f}" if len(summary["seeds"]) > 1 else "")


def verdict(gain: float, spread: float) -> str:
    """A gain (points) against twice the larger seed sd (points) of the pair."""
    return GAIN if gain > 2 * spread else LOSS if gain < -2 * spread else TIE


def gain_row(task: str, lang: str, label: str, protocol: str, ours: dict, ref: dict) -> list[str]:
    """One table row; `ours` / `ref` are result summaries (mean, sd and seeds of the test score)."""
    gain = 100 * (ours["test_mean"] - ref["test_mean"])
    n = min(len(ours["seeds"]), len(ref["seeds"]))
    if n > 1:
        judged = verdict(gain, 100 * max(ours["test_sd"], ref["test_sd"]))
        seeds = f"{n} (sd of the difference {100 * math.hypot(ours['test_sd'], ref['test_sd']):.1f})"
    else:
        judged, seeds = ONE_SEED, "one seed"
    return [task, lang, label, protocol, _score(ours), _score(ref), f"{gain:+.1f}", seeds, judged]


def gain_lines(results: dict[str, dict[str, dict]]) -> list[str]:
    """The markdown table (empty when no model has its twin's results)."""
    rows = []
    for task, docs in results.items():
        for model, doc in sorted(docs.items()):
            pair = twin_of(model, doc)
            if pair is None or pair[0] not in docs:
                continue
            base = docs[pair[0]].get("results", {})
            for lang, entry in sorted(doc.get("results", {}).items()):
                if lang in base:
                    rows.append(gain_row(task, lang, model_name(model, doc), pair[1], entry["summary"],
                                         base[lang]["summary"]))
    if not rows:
        return []
    head = ["task", "lang", "model", "protocol", "score", "untrained twin", "gain", "seeds",
            "verdict (gain against 2 × the larger seed sd)"]
    return ["### What pretraining bought (each model against its untrained twin, same protocol)", "",
            "The twin has the same architecture and the weights its pretraining started from (random-init "
            "BERT seeded per fine-tuning seed; for the frozen probes the run seed's initial weights), so the "
            "gain is what the pretraining put into the weights, under that protocol. A verdict needs the seed sd "
            "measured in this run; a row with one seed shows its difference and no verdict (one seed of "
            "fine-tuning on small data is not reproducible across CPUs: logs/demo/FINDINGS.md).", "",
            "| " + " | ".join(head) + " |", "|" + "---|" * len(head), *["| " + " | ".join(r) + " |" for r in rows], ""]
