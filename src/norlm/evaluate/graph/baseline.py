"""The trivial baseline the parser must beat: a train-set lexicon, no context, no structure beyond one token.

A (lower-cased) word that carries a root arc in most of its train occurrences is predicted as a
one-token root with its most frequent root label (`cue`, or `exp-<polarity>`), everywhere else no
arc: one-token cues with empty scopes, one-token expressions without holder or target.  It scores
the same split through the same files and scorers as the parser.
"""
from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from norlm.evaluate.graph.features import GraphExample


def root_lexicon(train: list[GraphExample]) -> dict[str, str]:
    seen: Counter = Counter()
    roots: dict[str, Counter] = defaultdict(Counter)
    for ex in train:
        for form, entries in zip(ex.forms, ex.arcs):
            w = form.lower()
            seen[w] += 1
            for head, label in entries:
                if head == 0:
                    roots[w][label] += 1
                    break
    return {w: min(c, key=lambda lab: (-c[lab], lab)) for w, c in roots.items() if sum(c.values()) * 2 > seen[w]}


def lexicon_predictions(lexicon: dict[str, str], examples: list[GraphExample], labels: list[str]) -> list[np.ndarray]:
    ids = {lab: i for i, lab in enumerate(labels)}
    out = []
    for ex in examples:
        m = np.zeros((len(ex) + 1, len(ex) + 1), np.int32)
        for j, form in enumerate(ex.forms, 1):
            label = lexicon.get(form.lower())
            if label in ids:
                m[0, j] = ids[label]
        out.append(m)
    return out
