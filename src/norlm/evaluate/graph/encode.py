"""Annotations -> labelled token graphs, in the four encodings of the sentiment-graph papers.

A graph gives each token (1..n; 0 is ROOT) a list of incoming arcs `(head, label)`.  Each opinion
(or negation) is encoded on its own and the per-token arcs of all of them are concatenated in
annotation order, duplicates kept, as the reference converters did.  So the gold graph carries
exactly the conversion losses of the reference data (spans that do not start on a token are
dropped for sentiment; an affixal cue marks its whole token).
"""
from __future__ import annotations

from norlm.evaluate.graph.data import Sentence, token_offsets

ENCODINGS = ("head_first", "head_final", "head_final-inside_label", "point_to_root")
Arcs = list[list[tuple[int, str]]]


def check_encoding(name: str) -> None:
    if name not in ENCODINGS:
        raise ValueError(f"unknown graph encoding {name!r} (known: {', '.join(ENCODINGS)})")


def _sa_token_labels(sentence: Sentence, opinion, starts: list[int]) -> list[str]:
    labels = ["O"] * len(starts)
    pol = opinion.polarity if opinion.polarity is not None else "None"
    anns = [(s, "holder") for s in opinion.holder] + [(s, "targ") for s in opinion.target] \
        + [(s, f"exp-{pol}") for s in opinion.expression]
    for (b, _e, string), label in anns:
        if b not in starts:
            continue  # the reference converter drops a span that does not start on a token
        i, k = starts.index(b), len(string.split())
        for j in range(i, min(i + k, len(labels))):
            labels[j] = label
    return labels


def _neg_index(b: int, starts: list[int]) -> int:
    if b in starts:
        return starts.index(b)
    if b > starts[-1]:
        return len(starts) - 1
    return next(j for j, s in enumerate(starts) if s > b) - 1  # an affix: the token containing it


def _neg_token_labels(sentence: Sentence, negation, starts: list[int]) -> list[str]:
    labels = ["O"] * len(starts)
    anns = [(s, "scope") for s in negation.scope] + [(s, "cue") for s in negation.cue]
    for (b, _e, string), label in anns:
        i, k = _neg_index(b, starts), len(string.split())
        for j in range(i, min(i + k, len(labels))):
            labels[j] = label
    return labels


def labels_to_arcs(labels: list[str], encoding: str, head_kind: str, second: str, third: str | None) -> Arcs:
    """One annotation's token labels -> per-token arcs (token ids 1-based; empty list = no arc).

    head_kind is the substring that marks the head element ("exp" or "cue"); `second` the element
    attached to it with its own root ("targ" / "scope"), `third` the optional other one ("holder").
    """
    check_encoding(encoding)
    n = len(labels)
    order = list(range(n))
    if encoding in ("head_final", "head_final-inside_label", "point_to_root"):
        order.reverse()
    arcs: Arcs = [[] for _ in range(n)]
    head = next((i for i in order if head_kind in labels[i]), None)
    if head is None:
        raise ValueError("annotation without a " + ("polar expression" if head_kind == "exp" else "cue"))
    arcs[head].append((0, labels[head]))
    if encoding == "point_to_root":
        for i in range(n):
            if i != head and labels[i] != "O":
                arcs[i].append((head + 1, labels[i]))
        return arcs
    roots = {}
    for kind in (second, third):
        if kind is None:
            continue
        r = next((i for i in order if labels[i] == kind), None)
        if r is not None:
            roots[kind] = r
            arcs[r].append((head + 1, kind))
    inside = encoding.endswith("inside_label")
    for i in range(n):
        lab = labels[i]
        if lab == "O" or i == head or i in roots.values():
            continue
        shown = "IN:" + lab if inside else lab
        if head_kind in lab:
            arcs[i].append((head + 1, shown))
        elif lab in roots:
            arcs[i].append((roots[lab] + 1, shown))
    return arcs


def _merge(parts: list[Arcs], n: int) -> Arcs:
    merged: Arcs = [[] for _ in range(n)]
    for part in parts:
        for i, entries in enumerate(part):
            merged[i].extend(entries)
    return merged


def sentiment_graph(sentence: Sentence, encoding: str, stats: dict | None = None) -> Arcs:
    """The opinions of a NoReC_fine sentence as one graph; opinions without expression are skipped."""
    starts = [b for b, _ in token_offsets(sentence.text)]
    parts = []
    for op in sentence.opinions:
        labels = _sa_token_labels(sentence, op, starts)
        try:
            parts.append(labels_to_arcs(labels, encoding, "exp", "targ", "holder"))
        except ValueError:
            if stats is not None:
                stats["opinions_without_expression"] = stats.get("opinions_without_expression", 0) + 1
    return _merge(parts, len(starts))


def negation_graph(sentence: Sentence, encoding: str, stats: dict | None = None) -> Arcs:
    """The negations of a NoReC_neg sentence as one graph (cue heads, scope attached to the cue)."""
    starts = [b for b, _ in token_offsets(sentence.text)]
    parts = []
    for neg in sentence.negations:
        labels = _neg_token_labels(sentence, neg, starts)
        try:
            parts.append(labels_to_arcs(labels, encoding, "cue", "scope", None))
        except ValueError:
            if stats is not None:
                stats["negations_without_cue"] = stats.get("negations_without_cue", 0) + 1
    return _merge(parts, len(starts))
