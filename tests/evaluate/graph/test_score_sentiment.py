"""The NorLM-era (norlm2021) and SemEval-2022 sentiment scorers on hand-made cases and the bundled gold."""
import pytest

from norlm.evaluate.graph import data, decode, encode
from norlm.evaluate.graph import score_sentiment as ss
from norlm.evaluate.graph.conllu import GraphSentence
from norlm.evaluate.readers import DataError
from tests.conftest import DATA

TEXT = "a b c d e f"


def _op(exp, target=None, holder=None, pol="Positive"):
    def span(x):
        if x is None:
            return [[], []]
        b = TEXT.index(x)
        return [[x], [f"{b}:{b + len(x)}"]]

    return {"Source": span(holder), "Target": span(target), "Polar_expression": span(exp), "Polarity": pol}


def _rec(*ops, sid="s1"):
    return {"sent_id": sid, "text": TEXT, "opinions": list(ops)}


def _graphs(records, encoding="head_final-inside_label"):
    out = []
    for r in records:
        s = data.Sentence(r["sent_id"], r["text"], opinions=[
            data.Opinion(*[[(int(o.split(":")[0]), int(o.split(":")[1]), t) for t, o in zip(*op[k])]
                           for k in ("Source", "Target", "Polar_expression")], op["Polarity"])
            for op in r["opinions"]])
        out.append(GraphSentence(s.sent_id, s.text, s.tokens, encode.sentiment_graph(s, encoding)))
    return out


def test_partial_expression_the_two_scorers_differ():
    gold, pred = [_rec(_op("a b c d"))], [_rec(_op("a b"))]
    se = ss.score_semeval2022(gold, pred)
    # SemEval-2022: precision weight |a∩b|/|pred| = 1, recall weight (1 + 1 + 2/4) / 3
    assert se["sf1"] == pytest.approx(100 * 2 * 1 * (2.5 / 3) / (1 + 2.5 / 3))
    old = ss.score_norlm2021(_graphs(gold), _graphs(pred))
    # norlm2021: P = w / (w + unmatched) = 1 whatever the weight, and R's weight divides by |pred| = 1
    assert old["sf1"] == pytest.approx(100.0) and old["nsf1"] == pytest.approx(100.0)
    assert old["sf1"] - se["sf1"] == pytest.approx(100 - 90.9090909, abs=1e-5)
    assert old["expression_f1"] == pytest.approx(100 * 2 * 1 * 0.5 / 1.5, abs=1e-3)  # token level: 2 of 4


def test_weights_divide_by_other_vs_own_span():
    g = (frozenset(), frozenset(), frozenset({1, 2, 3, 4}), "Positive")
    p = (frozenset(), frozenset(), frozenset({1, 2}), "Positive")
    assert ss.weighted_2021(p, [g]) == pytest.approx((1 + 1 + 0.5) / 3)  # pred tuple, divided by gold size
    assert ss.weighted_2022(p, [g]) == pytest.approx(1.0)  # pred tuple, divided by its own size
    assert ss.weighted_2021(g, [p]) == pytest.approx(1.0)
    assert ss.weighted_2022(g, [p]) == pytest.approx((1 + 1 + 0.5) / 3)


def test_first_match_vs_best_match():
    a = (frozenset(), frozenset(), frozenset({1, 2}), "Positive")
    others = [(frozenset(), frozenset(), frozenset({2, 3, 4, 5}), "Positive"),
              (frozenset(), frozenset(), frozenset({1, 2}), "Positive")]
    assert ss.weighted_2021(a, others) == pytest.approx((1 + 1 + 1 / 4) / 3)  # the first overlapping one
    assert ss.weighted_2022(a, others) == pytest.approx(1.0)  # the best one


def test_empty_holder_and_target_match_each_other_only():
    e = (frozenset(), frozenset(), frozenset({1}), "Positive")
    t = (frozenset(), frozenset({3}), frozenset({1}), "Positive")
    assert ss.tuple_in_list(e, [e], True) and not ss.tuple_in_list(e, [t], True)
    gold = [_rec(_op("a"))]
    assert ss.score_semeval2022(gold, [_rec(_op("a", target="c"))])["sf1"] == pytest.approx(0.0)
    assert ss.score_semeval2022(gold, gold)["sf1"] == pytest.approx(100.0)


def test_polarity_counts_for_sf1_only():
    gold, pred = [_rec(_op("a b", target="d", holder="f"))], [_rec(_op("a b", target="d", holder="f", pol="Negative"))]
    for scores in (ss.score_semeval2022(gold, pred), ss.score_norlm2021(_graphs(gold), _graphs(pred))):
        assert scores["sf1"] == pytest.approx(0.0) and scores["nsf1"] == pytest.approx(100.0)


def test_norlm2021_arc_targeted_and_span_metrics():
    gold = _graphs([_rec(_op("a b", target="d e"), _op("f", target="d e", pol="Negative"))])
    pred = _graphs([_rec(_op("a b", target="d"))])
    s = ss.score_norlm2021(gold, pred)
    # gold: b(2) -> 0:exp, a -> 2:IN:exp, e -> 2:targ, d -> 5:IN:targ; f(6) -> 0:exp, e -> 6:targ, d -> 5:IN:targ
    # pred: b -> 0:exp, a -> 2:IN:exp, d -> 2:targ
    g_edges, p_edges = ss._edges(gold[0]), ss._edges(pred[0])
    assert len(g_edges) == 7 and len(p_edges) == 3
    lab_tp = sum(e in g_edges for e in p_edges)
    assert lab_tp == 2  # (1, 2, IN:exp-Positive) and (2, 0, exp-Positive); d->2:targ is wrong in gold
    assert s["lf1"] == pytest.approx(100 * 2 * (2 / 3) * (2 / 7) / (2 / 3 + 2 / 7))
    assert s["uf1"] == pytest.approx(s["lf1"])
    # targeted: gold {((4,5),Positive), ((4,5),Negative)} vs pred {((4,),Positive)} -> 0
    assert s["targeted_f1"] == pytest.approx(0.0, abs=1e-6)
    # span F1 reads the last arc's label of a token: d is "targ", e "targ" in gold; pred has d only
    assert s["target_f1"] == pytest.approx(100 * 2 * 1 * 0.5 / 1.5, abs=1e-3)


def test_targeted_polarity_is_not_reset_between_targets():
    # target 3 attached to expression 1 (Positive); target 5 attached to a head without an exp arc
    edges = [(1, 0, "exp-Positive"), (3, 1, "targ"), (5, 4, "targ")]
    assert ss._targeted(edges) == {((3,), "Positive"), ((5,), "Positive")}
    assert ss._targeted([(5, 4, "targ")]) == set()  # no expression seen yet: skipped


def test_graph_tuples_follow_the_2021_rules():
    # expression 2 (root) with IN:exp 1; target root 4 attached to 2, inner 3 -> 4
    edges = [(1, 2, "IN:exp-Positive"), (2, 0, "exp-Positive"), (3, 4, "IN:targ"), (4, 2, "targ")]
    assert ss.graph_tuples(edges) == [(frozenset(), frozenset({4, 3}), frozenset({2, 1}), "Positive")]


def test_mismatched_sentence_ids():
    with pytest.raises(DataError, match=r"predictions: sentence ids differ from gold: 1 extra \(s2\)"):
        ss.score_semeval2022([_rec(_op("a"))], [_rec(_op("a"), sid="s2"), _rec(_op("a"))])


def test_bundled_test_round_trips():
    sents, _ = data.read_fine(data.fine_path(DATA, "test"))
    gold = [s.raw for s in sents]
    assert ss.score_semeval2022(gold, gold)["sf1"] == pytest.approx(100.0)  # the JSON itself
    graphs = [GraphSentence(s.sent_id, s.text, s.tokens, encode.sentiment_graph(s, "head_final-inside_label"))
              for s in sents]
    assert sum(len(a) for g in graphs for a in g.arcs) == 8019
    assert sum(len(ss.graph_tuples(ss._edges(g))) for g in graphs) == 1226
    # through the graph: the encoding's ceiling (overlapping opinions share arcs)
    back = [{"sent_id": g.sent_id, "text": g.text, "opinions": decode.graph_to_opinions(g.text, g.arcs)}
            for g in graphs]
    assert ss.score_semeval2022(gold, back)["sf1"] == pytest.approx(96.4755, abs=1e-3)
    assert ss.score_norlm2021(graphs, graphs)["sf1"] == pytest.approx(100.0)
