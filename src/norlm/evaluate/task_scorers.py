"""Task scorers: gold labels of the examples + predictions -> metric dict with a `score` key.

`score` is what model selection maximises and what the tables show: UPOS accuracy (POS),
strict micro F1 without MISC (NER), macro F1 (sentiment).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from norlm.evaluate.metrics import accuracy, macro_f1, ner_f1
from norlm.evaluate.tasks import SENTIMENT_LABELS


@dataclass
class Example:
    """One evaluation item: model inputs (whatever the model needs) and its gold label(s)."""

    gold: Any  # list[str] for token tasks, str for sentence tasks
    inputs: dict = field(default_factory=dict)


def scorer(task: str) -> Callable[[list, list], dict]:
    def score(examples: list[Example], preds: list) -> dict:
        gold = [ex.gold for ex in examples]
        if task == "pos":
            out = accuracy(gold, preds)
            out["score"] = out["accuracy"]
        elif task == "ner":
            out = ner_f1(gold, preds)
            out["score"] = out["f1"]
        else:
            out = macro_f1(gold, preds, labels=SENTIMENT_LABELS)
            out["score"] = out["f1"]
        return out

    return score
