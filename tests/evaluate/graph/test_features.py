"""Parser inputs: vocabularies, id arrays, gold matrices, batches and the dev score."""
from __future__ import annotations

from collections import Counter

import numpy as np

from norlm.evaluate.graph.features import (BOS, DROP, PAD, UNK, GraphExample, Vocab, build_vocabs, collate,
                                           featurise, gold_matrix, labelled_f1, matrix_to_arcs, norm)


def _ex(forms, arcs, sid="1"):
    return GraphExample(sid, " ".join(forms), list(forms), [f.lower() for f in forms], ["_"] * len(forms), arcs)


def test_norm_and_vocab_specials_and_threshold():
    assert norm("Året1999") == "åretNUM"
    assert norm("3,5") == "NUM,NUM"
    v = Vocab(Counter({"a": 7, "b": 6, "<PAD>": 9}), min_count=7)
    assert v.items[:5] == ["<UNK>", "<PAD>", "<BOS>", "<EOS>", "<DROP>"]
    assert (UNK, PAD, BOS, DROP) == (0, 1, 2, 4)
    assert v.ids(["a", "b", "zzz"]) == [5, UNK, UNK]
    assert len(v) == 6


def test_gold_matrix_later_arc_wins_and_root_row():
    ex = _ex(["ikke", "god"], [[(0, "cue")], [(1, "scope"), (1, "IN:scope")]])
    ids = {"<none>": 0, "cue": 1, "scope": 2, "IN:scope": 3}
    m = gold_matrix(ex, ids)
    assert m.tolist() == [[0, 1, 0], [0, 0, 3], [0, 0, 0]]
    assert matrix_to_arcs(m, list(ids)) == [[(0, "cue")], [(1, "IN:scope")]]


def test_featurise_and_collate_pad_and_put_root_first():
    train = [_ex(["Ikke", "bra", "2020"], [[(0, "cue")], [(1, "scope")], []]), _ex(["Bra"], [[]], "2")]
    v = build_vocabs(train, [], min_count=0)
    assert v.labels == ["<none>", "cue", "scope"]
    for ex in train:
        ex.inputs = featurise(ex, v)
    a = train[0].inputs
    assert a["words"][0] == BOS and v.words.items[a["words"][1]] == "ikke" and v.words.items[a["words"][3]] == "NUM"
    assert a["chars"].shape[0] == 4 and a["chars"][0, 0] == 2  # the ROOT char
    assert a["labels"][0, 1] == 1 and a["labels"][1, 2] == 2
    b = collate(train)
    assert b["words"].shape == (2, 4) and b["chars"].shape == (2, 4, 4)  # longest word "Ikke"/"2020"
    assert b["mask"].tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]
    assert b["words"][1, 2] == PAD and b["labels"][1].sum() == 0
    train[0].lm, train[1].lm = np.ones((3, 5), np.float32), 2 * np.ones((1, 5), np.float32)
    b = collate(train, lm_dim=5)
    assert b["lm"][0, 0].sum() == 0 and b["lm"][0, 1:].sum() == 15 and b["lm"][1, 1].sum() == 10 and b["lm"][1, 2:].sum() == 0


def test_labelled_f1_counts_label_and_arc_matches():
    gold = [np.array([[0, 1, 0], [0, 0, 2], [0, 0, 0]])]
    pred = [np.array([[0, 1, 0], [0, 0, 1], [0, 1, 0]])]  # one right, one wrong label, one extra arc
    s = labelled_f1(gold, pred)
    p, r = 1 / 3, 1 / 2
    assert abs(s["lf1"] - 2 * p * r / (p + r)) < 1e-12
    assert abs(s["uf1"] - 2 * (2 / 3) * 1.0 / (2 / 3 + 1.0)) < 1e-12
    assert s["score"] == s["lf1"] and (s["gold_arcs"], s["pred_arcs"]) == (2, 3)
