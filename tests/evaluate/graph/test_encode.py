"""Graph encodings against the spec's worked examples, and the graph CoNLL-U round trip."""
import pytest

from norlm.evaluate.graph import data, decode, encode
from norlm.evaluate.graph.conllu import GraphSentence, format_arcs, read_graph_conllu, write_graph_conllu
from tests.conftest import DATA


@pytest.fixture(scope="module")
def dev_example():
    dev, _ = data.read_fine(data.fine_path(DATA, "dev"))
    return next(s for s in dev if s.sent_id == "108886-02-01")


def cells(arcs):
    return [format_arcs(a) for a in arcs]


def test_head_final_inside_label_example(dev_example):
    got = cells(encode.sentiment_graph(dev_example, "head_final-inside_label"))
    assert got == ["5:targ", "5:IN:exp-Positive", "5:IN:exp-Positive", "5:IN:exp-Positive", "0:exp-Positive", "_",
                   "_", "_", "11:IN:exp-Positive", "11:IN:exp-Positive", "0:exp-Positive", "_"]


def test_head_first_example(dev_example):
    got = cells(encode.sentiment_graph(dev_example, "head_first"))
    assert got[:5] == ["2:targ", "0:exp-Positive", "2:exp-Positive", "2:exp-Positive", "2:exp-Positive"]
    assert got[8:11] == ["0:exp-Positive", "9:exp-Positive", "9:exp-Positive"]


def test_head_final_and_point_to_root(dev_example):
    assert cells(encode.sentiment_graph(dev_example, "head_final"))[:5] == \
        ["5:targ", "5:exp-Positive", "5:exp-Positive", "5:exp-Positive", "0:exp-Positive"]
    s = data.Sentence("1-1-1", "Per synes filmen er ikke bra", opinions=[
        data.Opinion([(0, 3, "Per")], [(10, 16, "filmen")], [(20, 28, "ikke bra")], "Negative")])
    assert cells(encode.sentiment_graph(s, "point_to_root")) == \
        ["6:holder", "_", "6:targ", "_", "6:exp-Negative", "0:exp-Negative"]
    assert cells(encode.sentiment_graph(s, "head_final-inside_label")) == \
        ["6:holder", "_", "6:targ", "_", "6:IN:exp-Negative", "0:exp-Negative"]


def test_negation_encoding_affix_and_merge():
    # "urolige seksåringen": the affixal cue u marks its whole token; a second negation is appended
    text = "jeg ønsker ikke urolige seksåringen"
    s = data.Sentence("1-1-1", text, negations=[
        data.Negation([(11, 15, "ikke")], [(0, 3, "jeg"), (4, 10, "ønsker")]),
        data.Negation([(16, 17, "u")], [(17, 35, "rolige seksåringen")], True)])
    got = cells(encode.negation_graph(s, "head_final-inside_label"))
    assert got == ["2:IN:scope", "3:scope", "0:cue", "0:cue", "4:scope"]  # scope root = its last token
    assert cells(encode.negation_graph(s, "head_first")) == ["3:scope", "1:scope", "0:cue", "0:cue", "4:scope"]
    negs = decode.graph_to_negations(5, encode.negation_graph(s, "head_final-inside_label"))
    assert negs == [{"cue": [3], "scope": [2, 1]}, {"cue": [4], "scope": [5]}]


def test_unknown_encoding():
    with pytest.raises(ValueError, match="unknown graph encoding"):
        encode.check_encoding("head_middle")


def test_graph_conllu_round_trip(tmp_path, dev_example):
    arcs = encode.sentiment_graph(dev_example, "head_final-inside_label")
    g = GraphSentence(dev_example.sent_id, dev_example.text, dev_example.tokens, arcs)
    write_graph_conllu(tmp_path / "g.conllu", [g, g])
    back, skipped = read_graph_conllu(tmp_path / "g.conllu")
    assert skipped == 0 and len(back) == 2
    assert back[0].arcs == arcs and back[0].text == dev_example.text and back[0].sent_id == "108886-02-01"
    ops = decode.graph_to_opinions(g.text, arcs)
    assert [(o["Target"], o["Polar_expression"], o["Polarity"]) for o in ops] == [
        ([["Hun"], ["0:3"]], [["avslutter , lurt nok"], ["4:24"]], "Positive"),
        ([[], []], [["aller største hit"], ["35:52"]], "Positive")]


def test_graph_conllu_bad_line_is_reported(tmp_path, capsys):
    p = tmp_path / "bad.conllu"
    p.write_text("# sent_id = a\n1\tx\t_\t_\t_\t_\t_\t_\t_\t_\t0:cue\n\n# sent_id = b\n1\ty\t_\t_\t_\t_\t_\t_\t_\t_\t7:cue\n\n")
    sents, skipped = read_graph_conllu(p)
    assert [s.sent_id for s in sents] == ["a"] and skipped == 1
    assert "norlm: warning: " in (err := capsys.readouterr().err) and "bad.conllu:5: head 7 beyond the sentence" in err
