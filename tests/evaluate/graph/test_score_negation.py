"""The *SEM 2012 negation scorer: the bundled gold round trips and one hand-made case per rule."""
import pytest

from norlm.evaluate.graph import data, decode, encode, starsem
from norlm.evaluate.graph.score_negation import _prf, format_table, score_starsem
from norlm.evaluate.readers import DataError
from norlm.files import open_text
from tests.conftest import DATA


def _system_file(tmp_path, sentences, encoding):
    blocks = [starsem.negation_rows(s.sent_id, s.tokens,
                                    decode.graph_to_negations(len(s.tokens), encode.negation_graph(s, encoding)))
              for s in sentences]
    path = tmp_path / f"{encoding}.starsem"
    starsem.write_starsem(path, blocks)
    return path


@pytest.fixture(scope="module")
def test_split():
    return data.read_neg(data.neg_path(DATA, "test"))[0]


def test_gold_conversion_is_byte_identical(tmp_path, test_split):
    path = tmp_path / "gold.starsem"
    starsem.write_starsem(path, [starsem.gold_rows(s) for s in test_split])
    with open_text(data.starsem_path(DATA, "test")) as fh:
        assert path.read_text(encoding="utf-8") == fh.read()


@pytest.mark.parametrize("encoding,full_f1", [("head_final-inside_label", 98.67), ("point_to_root", 99.83),
                                              ("head_first", 99.34)])
def test_round_trip_ceiling(tmp_path, test_split, encoding, full_f1):
    scores = score_starsem(data.starsem_path(DATA, "test"), _system_file(tmp_path, test_split, encoding))
    assert scores["cues"]["f1"] == 100.0
    assert scores["full_negation"]["f1"] == full_f1
    if encoding == "head_final-inside_label":  # every cell of the reference's max_score table
        assert scores["scopes_cue_match"] == {"gold": 301, "system": 302, "tp": 294, "fp": 1, "fn": 7,
                                              "precision": 99.66, "recall": 97.67, "f1": 98.65}
        assert scores["scope_tokens"] == {"gold": 1951, "system": 1992, "tp": 1951, "fp": 41, "fn": 0,
                                          "precision": 97.94, "recall": 100.0, "f1": 98.96}
        assert scores["full_negation_b"]["precision"] == 97.38 and scores["scopes_b_cue_match"]["f1"] == 97.51
        assert scores["sentences"] == {"sentences": 1272, "negation_sentences": 263,
                                       "negation_sentences_with_errors": 8, "correct_sentences_pct": 99.37,
                                       "correct_negation_sentences_pct": 96.96}
        table = format_table(scores)
        assert "Full negation:                 305 |    305 |  297 |    0 |    8 |        100.00 |      97.38 |   98.67" in table
        assert "Cues B:                        305 |    305 |  305 |    0 |    0 |        100.00 |     100.00 |  100.00" in table


def _sentence(rows, sid="s1"):
    """rows: (word, [(cue, scope), ...]) with [] meaning no negation in the sentence."""
    lines = []
    for i, (word, negs) in enumerate(rows):
        cols = ["_", sid, str(i), word, "_", "_", "_"]
        cols += [x for cue, scope in negs for x in (cue, scope, "_")] if negs else ["***"]
        lines.append("\t".join(cols))
    return "\n".join(lines) + "\n\n"


def _score(tmp_path, gold_rows, sys_rows):
    (tmp_path / "g").write_text(_sentence(gold_rows))
    (tmp_path / "s").write_text(_sentence(sys_rows))
    return score_starsem(tmp_path / "g", tmp_path / "s")


def _row(s, key):
    r = s[key]
    return r["tp"], r["fp"], r["fn"]


def test_multi_token_cue_needs_every_token(tmp_path):
    gold = [("det", [("_", "det")]), ("er", [("_", "er")]), ("ikke", [("ikke", "_")]), ("noe", [("noe", "_")]),
            ("bra", [("_", "bra")])]
    part = [(w, [("_", sc) if w == "noe" else (c, sc)]) for w, [(c, sc)] in gold]
    s = _score(tmp_path, gold, part)
    # paired through the shared token 'ikke': cue FN, full FN, never a cue FP; scope tokens still count
    assert _row(s, "cues") == (0, 0, 1) and _row(s, "full_negation") == (0, 0, 1)
    assert _row(s, "scope_tokens") == (3, 0, 0)
    assert _row(s, "scopes_cue_match") == (0, 0, 1)  # cue wrong -> scope FN in the cue-match row
    assert s["scopes_no_cue_match"]["fn"] == 0 and s["scopes_no_cue_match"]["precision"] == 100.0
    assert _row(_score(tmp_path, gold, gold), "full_negation") == (1, 0, 0)


def test_discontinuous_cue(tmp_path):
    gold = [("verken", [("verken", "_")]), ("film", [("_", "film")]), ("eller", [("eller", "_")]),
            ("bok", [("_", "bok")])]
    s = _score(tmp_path, gold, gold)
    assert _row(s, "cues") == (1, 0, 0) and s["cues"]["gold"] == 1
    only_second = [(w, [("_", sc) if w == "verken" else (c, sc)]) for w, [(c, sc)] in gold]
    assert _row(_score(tmp_path, gold, only_second), "cues") == (0, 0, 1)


def test_affixal_cue_needs_the_affix(tmp_path):
    gold = [("et", [("_", "_")]), ("urolig", [("u", "rolig")]), ("barn", [("_", "barn")])]
    whole = [("et", [("_", "_")]), ("urolig", [("urolig", "_")]), ("barn", [("_", "barn")])]
    s = _score(tmp_path, gold, whole)
    assert _row(s, "cues") == (0, 0, 1) and _row(s, "scope_tokens") == (1, 0, 1)
    assert _row(_score(tmp_path, gold, gold), "cues") == (1, 0, 0)


def test_affix_rule_of_the_converter():
    assert starsem.affixer("urolig") == ("u", (0, 1))
    assert starsem.affixer("utenomjordisk") == ("utenom", (0, 6))
    assert starsem.affixer("smertefri") == ("fri", (6, 9))
    assert starsem.affixer("aldri") == ("aldri", (0, 5))
    rows = starsem.negation_rows("s", ["urolig", "smertefri", "ingen", "ikke", "barn"],
                                 [{"cue": [1], "scope": [5]}, {"cue": [2], "scope": []}, {"cue": [3], "scope": [4]}])
    cols = [r.split("\t")[7:] for r in rows]
    assert cols[0][:2] == ["u", "rolig"]  # prefix: cue is the affix, scope the rest
    assert cols[1][3:5] == ["fri", "smerte"]  # suffix
    assert cols[2][6:8] == ["ingen", "_"]  # a listed word is a cue as a whole
    assert cols[3][6:8] == ["_", "ikke"] and cols[4][0:2] == ["_", "barn"]


def test_abbreviation_rule_is_ascii_only(tmp_path):
    gold = [("ikke", [("ikke", "_")]), ("Mr.", [("_", "Mr.")]), ("blå.", [("_", "blå.")])]
    sys_ = [("ikke", [("ikke", "_")]), ("Mr.", [("_", "Mr")]), ("blå.", [("_", "blå")])]
    (tmp_path / "g").write_text(_sentence(gold))
    (tmp_path / "s").write_text(_sentence(sys_))
    s = score_starsem(tmp_path / "g", tmp_path / "s")
    # "Mr." == "Mr" after the rule; "blå." keeps its dot (ASCII \w), so that token is wrong
    assert _row(s, "scope_tokens") == (1, 1, 1)


def test_unpaired_negations_are_the_only_false_positives(tmp_path):
    gold = [("ikke", [("ikke", "_")]), ("bra", [("_", "bra")]), ("aldri", [("_", "_")])]
    sys_ = [("ikke", [("_", "_")]), ("bra", [("_", "bra")]), ("aldri", [("aldri", "_")])]
    s = _score(tmp_path, gold, sys_)
    assert _row(s, "cues") == (0, 1, 1) and _row(s, "full_negation") == (0, 1, 1)
    assert _row(s, "scope_tokens") == (0, 1, 1)
    assert s["sentences"]["negation_sentences_with_errors"] == 1
    none = [(w, []) for w, _ in gold]
    s = _score(tmp_path, gold, none)
    assert _row(s, "cues") == (0, 0, 1) and s["cues"]["precision"] == 0.0


def test_rounding_before_f1_and_b_variant():
    assert _prf(1, 0, 5) == (100.0, 16.67, 28.58)  # F1 of the unrounded P, R would be 28.57
    assert _prf(3, 1, 0, system=5) == (60.0, 100.0, 75.0)  # B: precision = tp / system


def test_mismatched_files_name_the_line(tmp_path):
    (tmp_path / "g").write_text(_sentence([("ikke", [("ikke", "_")]), ("bra", [("_", "bra")])]))
    (tmp_path / "s").write_text(_sentence([("ikke", []), ("god", [])]))
    with pytest.raises(DataError, match=r"s:2: first four columns"):
        score_starsem(tmp_path / "g", tmp_path / "s")
    (tmp_path / "s").write_text(_sentence([("ikke", [("_", "x")]), ("bra", [("_", "bra")])]))
    with pytest.raises(DataError, match="has no cue token"):
        score_starsem(tmp_path / "g", tmp_path / "s")
