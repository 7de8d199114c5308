"""Token graphs -> annotations: sentiment opinions (dataset JSON) and negations (cue/scope tokens).

Sentiment follows the SemEval-2022 baseline's graph-to-JSON conversion: every token with an arc
from ROOT is an expression root; its expression is itself plus the expression tokens attached to
it; targets/holders are tokens attached to it with a targ/holder label plus their children; a root
gets one opinion per target x holder pair (`[[], []]` when there is none).
Negation follows the NoReC_neg converter: one label per matrix cell (the last arc wins), cues are
the tokens with a `cue` arc from ROOT, and a depth-first walk collects the rest.
"""
from __future__ import annotations

from norlm.evaluate.graph.data import token_offsets


def _span_json(token_ids: list[int], forms: list[str], offsets: list[tuple[int, int]]) -> list[list[str]]:
    """Sorted 0-based token ids -> [[strings], ["b:e", ...]] with contiguous runs merged."""
    if not token_ids:
        return [[], []]
    strings, spans = [], []
    run = [token_ids[0]]
    for t in token_ids[1:]:
        if offsets[t][0] == offsets[run[-1]][1] + 1:
            run.append(t)
        else:
            strings.append(" ".join(forms[i] for i in run))
            spans.append(f"{offsets[run[0]][0]}:{offsets[run[-1]][1]}")
            run = [t]
    strings.append(" ".join(forms[i] for i in run))
    spans.append(f"{offsets[run[0]][0]}:{offsets[run[-1]][1]}")
    return [strings, spans]


def graph_to_opinions(text: str, arcs: list[list[tuple[int, str]]], encoding: str = "head_final-inside_label") -> list[dict]:
    """Opinion dicts (Source, Target, Polar_expression, Polarity) decoded from one sentence graph.

    Unlike the SemEval-2022 baseline's converter, children are followed only along arcs with the
    matching label, so the arcs of one opinion do not leak into another's spans; in point_to_root
    (no inner structure) all target (holder) tokens of an expression form one target (holder)."""
    forms = text.split(" ")
    offsets = token_offsets(text)
    n = len(forms)

    inside = encoding.endswith("inside_label")
    incoming: dict[int, list[tuple[int, str]]] = {}  # head (1-based) -> (dependent, label), dependents ascending
    for t in range(n):
        for h, lab in arcs[t]:
            incoming.setdefault(h, []).append((t, lab))

    def children(head: int, kind: str, exact: bool) -> list[int]:
        # exact: the element's own root arc (label == kind); else its inner tokens, which carry
        # the IN: prefix in the inside_label encodings (so another opinion's root arc is not taken)
        def ok(lab: str) -> bool:
            if exact:
                return lab == kind
            return lab.startswith("IN:") and kind in lab if inside else kind in lab

        return sorted({t for t, lab in incoming.get(head + 1, ()) if ok(lab)})

    opinions = []
    for r in range(n):
        root_labels = [lab for h, lab in arcs[r] if h == 0]
        if not root_labels:
            continue
        exp = sorted({r} | set(children(r, "exp", False)))
        parts = root_labels[-1].split("-", 1)
        polarity = parts[1] if len(parts) > 1 and parts[1] != "None" else None
        groups = {}
        for kind in ("targ", "holder"):
            heads = children(r, kind, True)
            if encoding == "point_to_root":
                found = [_span_json(heads, forms, offsets)] if heads else []
            else:
                found = [_span_json(sorted({t} | set(children(t, kind, False))), forms, offsets) for t in heads]
            groups[kind] = found or [[[], []]]
        for targ in groups["targ"]:
            for holder in groups["holder"]:
                opinions.append({"Source": holder, "Target": targ, "Polar_expression": _span_json(exp, forms, offsets),
                                 "Polarity": polarity, "Intensity": "Standard"})
    return opinions


def label_matrix(n: int, arcs: list[list[tuple[int, str]]]) -> list[list[str | None]]:
    """(n+1) x (n+1) matrix M[head][dependent] = label; a later arc into the same cell wins."""
    m: list[list[str | None]] = [[None] * (n + 1) for _ in range(n + 1)]
    for dep, entries in enumerate(arcs, 1):
        for head, label in entries:
            m[head][dep] = label
    return m


def _descendants(i: int, m, suffix: str, visited: list[int] | None):
    # the start node is neither yielded nor marked visited (as in the reference converter)
    if visited is None:
        visited = []
    else:
        yield i
        visited.append(i)
    for j in range(len(m)):
        if j in visited:
            continue
        if m[i][j] is not None and m[i][j].endswith(suffix):
            yield from _descendants(j, m, suffix, visited)


def graph_to_negations(n: int, arcs: list[list[tuple[int, str]]]) -> list[dict]:
    """Negations as {"cue": [token ids], "scope": [token ids]} (1-based ids), in root-cue order."""
    m = label_matrix(n, arcs)
    out = []
    for rc in range(n + 1):
        if m[0][rc] != "cue":
            continue
        cue = [rc] + list(_descendants(rc, m, "cue", None))
        scope = list(_descendants(rc, m, "scope", None))
        out.append({"cue": cue, "scope": scope})
    return out
