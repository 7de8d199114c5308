"""The paper's metrics: UPOS accuracy, strict NER micro F1 without MISC, sentiment macro F1.

NER follows LTG's NorNE scorer: entities of the eight types below, MISC dropped from gold and
predictions (not merged), strict matching (same boundaries and type), micro-averaged; the
entity bookkeeping is `nervaluate`'s.
"""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Sequence

NER_TYPES = ("PER", "ORG", "LOC", "GPE_LOC", "GPE_ORG", "PROD", "EVT", "DRV")


def _check_lengths(gold: Sequence, pred: Sequence) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} items, predictions {len(pred)}")


def accuracy(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Token accuracy over all tokens (punctuation included) with a per-tag breakdown."""
    _check_lengths(gold, pred)
    total = correct = 0
    per_tag: dict[str, Counter] = {}
    for i, (g_sent, p_sent) in enumerate(zip(gold, pred)):
        if len(g_sent) != len(p_sent):
            raise ValueError(f"sentence {i}: {len(g_sent)} gold tags, {len(p_sent)} predicted")
        for g, p in zip(g_sent, p_sent):
            total += 1
            correct += g == p
            counts = per_tag.setdefault(g, Counter())
            counts["support"] += 1
            counts["correct"] += g == p
    return {
        "accuracy": correct / total if total else 0.0,
        "tokens": total,
        "per_class": {tag: {"accuracy": c["correct"] / c["support"], "support": c["support"]}
                      for tag, c in sorted(per_tag.items())},
    }


def ner_f1(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], types: Sequence[str] = NER_TYPES) -> dict:
    """Strict micro precision/recall/F1 over `types` (IOB2 tags), with a per-type breakdown."""
    from nervaluate import Evaluator

    _check_lengths(gold, pred)
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags, {len(p)} predicted")
    gold, pred = [list(s) for s in gold], [list(s) for s in pred]
    results = Evaluator(gold, pred, tags=list(types), loader="list").evaluate()
    if isinstance(results, dict):
        overall, by_type = results["overall"]["strict"], {t: r["strict"] for t, r in results["entities"].items()}
    else:
        overall, by_type = _strict_v02(results, gold, pred, types)

    def row(res) -> dict:
        return {"precision": float(res.precision), "recall": float(res.recall), "f1": float(res.f1),
                "correct": res.correct, "gold": res.possible, "predicted": res.actual}

    return {**row(overall), "per_class": {t: row(by_type[t]) for t in types if t in by_type}}


def _strict_v02(results: tuple, gold: list, pred: list, types: Sequence[str]) -> tuple:
    """nervaluate 0.2, the newest on Python 3.10 (LUMI's image), returns plain dicts and books a
    wrong-type entity under one type; 1.x scores each type on its own entities, and only the types that
    gold or predictions have.  Scored the 1.x way here, so both give the same numbers."""
    from nervaluate import Evaluator

    by_type = {}
    for t in types:
        res = Evaluator(gold, pred, tags=[t], loader="list").evaluate()[0]["strict"]
        if res["possible"] or res["actual"]:
            by_type[t] = SimpleNamespace(**res)
    return SimpleNamespace(**results[0]["strict"]), by_type


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] | None = None) -> dict:
    """Macro-averaged F1 over the labels (default: every label seen in gold or predictions)."""
    _check_lengths(gold, pred)
    labels = sorted(set(gold) | set(pred)) if labels is None else list(labels)
    per_class = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    correct = sum(1 for g, p in zip(gold, pred) if g == p)
    return {
        "f1": sum(c["f1"] for c in per_class.values()) / len(per_class) if per_class else 0.0,
        "accuracy": correct / len(gold) if gold else 0.0,
        "per_class": per_class,
    }
