"""Bundled NoReC_fine / NoReC_neg: split counts, readers and the (document, text) join."""
import json

import pytest

from norlm.evaluate.graph import data
from norlm.evaluate.readers import DataError
from tests.conftest import DATA


@pytest.mark.parametrize("split,n_fine,n_neg", [("train", 8634, 8543), ("dev", 1531, 1531), ("test", 1272, 1272)])
def test_split_counts_and_join(split, n_fine, n_neg):
    fine, skipped_f = data.read_fine(data.fine_path(DATA, split))
    neg, skipped_n = data.read_neg(data.neg_path(DATA, split))
    assert (len(fine), len(neg), skipped_f, skipped_n) == (n_fine, n_neg, 0, 0)
    pairs, only_fine, only_neg = data.join_on_doc_text(fine, neg)
    # every NoReC_neg sentence has its NoReC_fine twin; train has 91 sentences of 4 removed documents
    assert len(pairs) == n_neg and only_neg == 0 and only_fine == n_fine - n_neg
    assert all(a.text == b.text and a.doc == b.doc for a, b in pairs)
    if split == "train":  # the join is not on sent_id: some paired sentences carry different ids
        assert sum(a.sent_id != b.sent_id for a, b in pairs) == 537


def test_counts_of_annotations():
    fine, _ = data.read_fine(data.fine_path(DATA, "test"))
    neg, _ = data.read_neg(data.neg_path(DATA, "test"))
    assert sum(len(s.opinions) for s in fine) == 1235
    assert sum(len(s.negations) for s in neg) == 305
    assert sum(n.affixal for s in neg for n in s.negations) == 69
    dev, _ = data.read_fine(data.fine_path(DATA, "dev"))
    s = next(s for s in dev if s.sent_id == "108886-02-01")
    assert s.opinions[0].target == [(0, 3, "Hun")]
    assert s.opinions[0].expression == [(4, 24, "avslutter , lurt nok")]
    assert s.opinions[0].polarity == "Positive"


def test_token_offsets():
    assert data.token_offsets("Hun avslutter , lurt") == [(0, 3), (4, 13), (14, 15), (16, 20)]


def test_bad_records_are_counted_and_reported(tmp_path, capsys):
    path = tmp_path / "x.json"
    good = {"sent_id": "1-01-01", "text": "a b", "opinions": []}
    bad = {"sent_id": "1-01-02", "text": "a b", "opinions": [{"Source": [["a"], []], "Target": [[], []],
                                                              "Polar_expression": [["b"], ["2:3"]],
                                                              "Polarity": "Positive"}]}
    path.write_text(json.dumps([good, bad]))
    sents, skipped = data.read_fine(path)
    assert [s.sent_id for s in sents] == ["1-01-01"] and skipped == 1
    assert "record 1 (1-01-02) opinion 0 Source" in capsys.readouterr().err
    path.write_text(json.dumps([bad]))
    with pytest.raises(DataError, match="no usable sentence"):
        data.read_fine(path)
    path.write_text("[\n{oops")
    with pytest.raises(DataError, match=r"x.json:2: invalid JSON"):
        data.read_neg(path)
