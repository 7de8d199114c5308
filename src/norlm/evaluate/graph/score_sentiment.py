"""The two structured-sentiment scorers: the NorLM-era one (`norlm2021`) and SemEval-2022's (`semeval2022`).

norlm2021 re-implements the sentiment-graph repository's `F1_scorer.py` on graph CoNLL-U of one
encoding: token-level Holder/Target/Expression F1 (the original zipped the files in order; here sentences
are paired by sent_id, which gives its numbers whenever the orders agree), Targeted F1, unlabelled
and labelled arc F1 and the sentiment-tuple F1s.  Its conventions are kept: the tuple weights
divide by the *other* tuple's span sizes and take the first overlapping tuple; the tuple
denominator is (sum of weights + unmatched).  Two deliberate changes make it deterministic: tuples
are deduplicated in first-seen order (the original took a Python set's order, which moves SF1 by
up to ~0.05 with PYTHONHASHSEED), and targeted-F1 keys sort the target tokens.  Empty inputs give
0 instead of a ZeroDivisionError.

Both pair gold and predicted sentences by sent_id; missing, extra or repeated ids are an error.

semeval2022 re-implements SemEval-2022 Task 10's `evaluate.py` on dataset JSON: tuples of token
sets per opinion, the best overlapping tuple's weight with the tuple's own span sizes as
denominators, P = weights / (matched + unmatched).
"""
from __future__ import annotations

from norlm.evaluate.graph.data import token_offsets
from norlm.evaluate.readers import DataError

EPS_2021 = 1e-6


def flat_label(label: str) -> str:
    """The NorLM scorer's label mapping: drop `IN:` and the polarity (holder / targ / exp / O)."""
    if label.startswith("IN:"):
        label = label[3:]
    return "exp" if label.startswith("exp") else label


def _edges(sentence) -> list[tuple[int, int, str]]:
    return [(t + 1, h, lab) for t, entries in enumerate(sentence.arcs) for h, lab in entries]


def paired(gold: list, pred: list, sid, names: tuple[str, str] = ("gold", "predictions")) -> list[tuple]:
    """(gold, predicted) sentences paired by `sid(sentence)`, in gold order.  Repeated, missing or extra
    ids are an error that names them (and both files)."""
    from norlm.evaluate.graph.score_negation import id_difference

    for items, name in ((gold, names[0]), (pred, names[1])):
        ids = [sid(x) for x in items]
        repeated = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) < len(ids) else []
        if repeated:
            raise DataError(f"{name}: sentence id(s) repeated: {', '.join(map(str, repeated[:5]))}")
    by_id = {sid(x): x for x in pred}
    gold_ids = {sid(x) for x in gold}
    missing = [sid(x) for x in gold if sid(x) not in by_id]
    extra = [sid(x) for x in pred if sid(x) not in gold_ids]
    if missing or extra:
        raise DataError(f"{names[1]}: sentence ids differ from {names[0]}: {id_difference(missing, extra)}")
    return [(x, by_id[sid(x)]) for x in gold]


def span_f1(gold, pred, kind: str) -> float:
    """Token-level F1 of one element (holder / targ / exp) over sentences paired in order."""
    tp = fp = fn = 0
    for gs, ps in zip(gold, pred):
        for ga, pa in zip(gs.arcs, ps.arcs):
            g = flat_label(ga[-1][1]) if ga else "O"
            p = flat_label(pa[-1][1]) if pa else "O"
            tp += g == p == kind
            fp += p == kind and g != kind
            fn += g == kind and p != kind
    prec, rec = tp / (tp + fp + EPS_2021), tp / (tp + fn + EPS_2021)
    return 2 * prec * rec / (prec + rec + EPS_2021)


def _arc_f1(gold: dict, pred: dict, labelled: bool) -> float:
    def strip(edges):
        return edges if labelled else [(t, h) for t, h, _ in edges]

    tp_p = n_p = tp_r = n_g = 0
    for sid, pe in pred.items():
        p, g = strip(pe), strip(gold[sid])
        tp_p += sum(e in g for e in p)
        n_p += len(p)
        tp_r += sum(e in p for e in g)
        n_g += len(g)
    prec = tp_p / n_p if n_p else 0.0
    rec = tp_r / n_g if n_g else 0.0
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.0


def _targeted(edges) -> set:
    out, polarity = set(), None  # polarity is not reset between targets (as in the original)
    for tok, head, label in edges:
        if label != "targ":
            continue
        target = [tok]
        for t, e, lab in edges:
            if t == head and "exp" in lab:
                polarity = lab.split("-")[-1]
            if e == tok and "targ" in lab:
                target.append(t)
        if polarity is not None:
            out.add((tuple(sorted(set(target))), polarity))
    return out


def targeted_f1(gold: dict, pred: dict) -> float:
    tp = fp = fn = 0
    for sid, ge in gold.items():
        g, p = _targeted(ge), _targeted(pred[sid])
        tp, fp, fn = tp + len(p & g), fp + len(p - g), fn + len(g - p)
    prec, rec = tp / (tp + fp + EPS_2021), tp / (tp + fn + EPS_2021)
    return 2 * prec * rec / (prec + rec + EPS_2021)


def graph_tuples(edges) -> list[tuple]:
    """(holder, target, expression, polarity) tuples of one graph, as F1_scorer.get_sent_tuples."""
    exps = []
    for tok, head, label in edges:
        if head == 0:
            pol = label.split("-")[-1]
            exps.append(([tok] + [t for t, e, lab in edges if e == tok and pol in lab], pol))
    attached = {}
    grown: dict[int, set] = {}  # the span depends on its first token only
    for kind in ("targ", "holder"):
        found = []
        for tok, head, label in edges:
            if label == kind:
                if tok not in grown:
                    span = {tok}
                    for t, e, _lab in edges:  # one pass; the span grows while it is scanned
                        if e in span:
                            span.add(t)
                    grown[tok] = span
                found.append((head, grown[tok]))
        attached[kind] = found
    tuples = []
    for exp, pol in exps:
        targets = [s for h, s in attached["targ"] if h == exp[0]] or [[]]
        holders = [s for h, s in attached["holder"] if h == exp[0]] or [[]]
        for t in targets:
            for h in holders:
                tuples.append((frozenset(h), frozenset(t), frozenset(exp), pol))
    return list(dict.fromkeys(tuples))


def _filled(tup):
    h, t, e, pol = tup
    return (h or frozenset(["_"])), (t or frozenset(["_"])), e, pol


def _overlaps(a, b) -> bool:
    return bool(a[0] & b[0]) and bool(a[1] & b[1]) and bool(a[2] & b[2])


def tuple_in_list(a, others, keep_polarity: bool) -> bool:
    a = _filled(a)
    return any(_overlaps(a, b) and (not keep_polarity or a[3] == b[3]) for b in map(_filled, others))


def weighted_2021(a, others) -> float:
    """First overlapping tuple; overlaps divided by the OTHER tuple's sizes (polarity not checked)."""
    a = _filled(a)
    for b in map(_filled, others):
        if _overlaps(a, b):
            return sum(len(a[k] & b[k]) / len(b[k]) for k in range(3)) / 3
    return 0.0


def weighted_2022(a, others) -> float:
    """Best overlapping tuple; overlaps divided by this tuple's own sizes."""
    a = _filled(a)
    best = 0.0
    for b in map(_filled, others):
        if _overlaps(a, b):
            best = max(best, sum(len(b[k] & a[k]) / len(a[k]) for k in range(3)) / 3)
    return best


def tuple_f1_2021(gold: dict, pred: dict, keep_polarity: bool) -> float:
    gold = {sid: graph_tuples(gold[sid]) for sid in pred}
    pred = {sid: graph_tuples(edges) for sid, edges in pred.items()}

    def side(src, other):
        w, miss = 0.0, 0
        for sid in pred:
            mine, theirs = src[sid], other[sid]
            for tup in mine:
                if tuple_in_list(tup, theirs, keep_polarity):
                    w += weighted_2021(tup, theirs)
                else:
                    miss += 1
        return w / (w + miss) if w + miss else 0.0

    prec, rec = side(pred, gold), side(gold, pred)
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.0


def score_norlm2021(gold: list, pred: list, names: tuple[str, str] = ("gold", "predictions")) -> dict:
    """All eight metrics (percent) from gold and predicted GraphSentence lists of one encoding, paired
    by sent_id (the original zipped the files in order: the same numbers when the orders agree)."""
    pairs = paired(gold, pred, lambda s: s.sent_id, names)
    for g, p in pairs:
        if len(g) != len(p):
            raise DataError(f"{names[1]}: sentence {p.sent_id} has {len(p)} tokens, {names[0]} has {len(g)}")
    gold, pred = [g for g, _ in pairs], [p for _, p in pairs]
    gd = {s.sent_id: _edges(s) for s in gold}
    pd = {s.sent_id: _edges(s) for s in pred}
    return {"holder_f1": 100 * span_f1(gold, pred, "holder"), "target_f1": 100 * span_f1(gold, pred, "targ"),
            "expression_f1": 100 * span_f1(gold, pred, "exp"), "targeted_f1": 100 * targeted_f1(gd, pd),
            "uf1": 100 * _arc_f1(gd, pd, False), "lf1": 100 * _arc_f1(gd, pd, True),
            "nsf1": 100 * tuple_f1_2021(gd, pd, False), "sf1": 100 * tuple_f1_2021(gd, pd, True)}


def _token_set(offsets_strs: list[str], spans: list[tuple[int, int]]) -> frozenset:
    ids = []
    for off in offsets_strs:
        b, e = (int(x) for x in off.split(":"))
        inside = False
        for i, (s, t) in enumerate(spans):
            if s == b:
                inside = True
            if inside:
                ids.append(i)
            if t == e:
                inside = False
    return frozenset(ids)


def json_tuples(record: dict) -> list[tuple]:
    spans = token_offsets(record["text"])
    return [(_token_set(op["Source"][1], spans), _token_set(op["Target"][1], spans),
             _token_set(op["Polar_expression"][1], spans), op["Polarity"]) for op in record.get("opinions", [])]


def score_semeval2022(gold_json: list[dict], pred_json: list[dict], names: tuple[str, str] = ("gold", "predictions")) -> dict:
    """SF1 (and NSF1, polarity ignored) in percent, from dataset-format JSON lists paired by sent_id."""
    pairs = paired(gold_json, pred_json, lambda r: r["sent_id"], names)
    for g, p in pairs:
        if g["text"] != p["text"]:
            raise DataError(f"{names[1]}: sentence {p['sent_id']} has another text than in {names[0]}")
    gold = {g["sent_id"]: json_tuples(g) for g, _ in pairs}
    pred = {p["sent_id"]: json_tuples(p) for _, p in pairs}

    def f1(keep_polarity: bool) -> float:
        def side(src, other):
            w = n = 0
            for sid in pred:
                for tup in src[sid]:
                    n += 1
                    if tuple_in_list(tup, other[sid], keep_polarity):
                        w += weighted_2022(tup, other[sid])
            return w / (n + 1e-16)

        p, r = side(pred, gold), side(gold, pred)
        return 2 * p * r / (p + r + 1e-17)

    return {"sf1": 100 * f1(True), "nsf1": 100 * f1(False)}
