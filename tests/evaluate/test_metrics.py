"""Metrics on hand-made cases, and parity with seqeval (NER) and scikit-learn (macro F1)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from norlm.evaluate.metrics import NER_TYPES, accuracy, macro_f1, ner_f1
from norlm.evaluate.readers import read_conllu

NORNE_TEST = Path(__file__).resolve().parents[2] / "data" / "norne" / "ud" / "nob" / "no_bokmaal-ud-test.conllu.gz"


def test_accuracy_counts_every_token_and_breaks_down_by_tag():
    gold = [["NOUN", "VERB", "PUNCT"], ["DET", "NOUN"]]
    pred = [["NOUN", "NOUN", "PUNCT"], ["DET", "VERB"]]
    out = accuracy(gold, pred)
    assert out["accuracy"] == pytest.approx(3 / 5)
    assert out["tokens"] == 5
    assert out["per_class"]["NOUN"] == {"accuracy": 0.5, "support": 2}
    assert out["per_class"]["VERB"]["accuracy"] == 0.0


def test_accuracy_rejects_length_mismatch():
    with pytest.raises(ValueError, match="sentence 0"):
        accuracy([["A", "B"]], [["A"]])


def test_ner_strict_ignores_misc_and_needs_exact_spans():
    gold = [["B-PER", "I-PER", "O", "B-MISC", "B-LOC"], ["B-ORG", "I-ORG", "O"]]
    # PER exact (correct); MISC predicted as MISC (ignored both sides); LOC predicted as GPE_LOC (wrong type);
    # ORG predicted one token short (wrong boundary); spurious PER at the end
    pred = [["B-PER", "I-PER", "O", "B-MISC", "B-GPE_LOC"], ["B-ORG", "O", "B-PER"]]
    out = ner_f1(gold, pred)
    assert out["correct"] == 1
    assert out["gold"] == 3 and out["predicted"] == 4
    assert out["precision"] == pytest.approx(1 / 4)
    assert out["recall"] == pytest.approx(1 / 3)
    assert out["f1"] == pytest.approx(2 * (1 / 4) * (1 / 3) / (1 / 4 + 1 / 3))
    assert "MISC" not in out["per_class"]
    assert out["per_class"]["PER"]["f1"] == pytest.approx(2 / 3)


def test_ner_misc_only_predictions_are_not_spurious():
    out = ner_f1([["B-PER", "O"]], [["B-PER", "B-MISC"]])
    assert out["precision"] == 1.0 and out["f1"] == 1.0


def _perturb(tags: list[str], rng: random.Random) -> list[str]:
    labels = ["O"] + [f"{p}-{t}" for t in NER_TYPES + ("MISC",) for p in "BI"]
    out = []
    for tag in tags:
        r = rng.random()
        if r < 0.05:
            out.append(rng.choice(labels))
        elif r < 0.08 and tag != "O":
            out.append("O")
        else:
            out.append(tag)
    return out


def test_ner_f1_agrees_with_seqeval_on_norne_test():
    from seqeval.metrics import f1_score, precision_score, recall_score

    gold = [s.ner for s in read_conllu(NORNE_TEST).records]
    assert len(gold) == 1939
    rng = random.Random(2021)
    pred = [_perturb(s, rng) for s in gold]

    def no_misc(seqs):
        return [["O" if t.endswith("MISC") else t for t in s] for s in seqs]

    ours = ner_f1(gold, pred)
    assert 0.5 < ours["f1"] < 0.95  # the perturbation really changes things
    assert ours["f1"] == pytest.approx(f1_score(no_misc(gold), no_misc(pred)), abs=1e-9)
    assert ours["precision"] == pytest.approx(precision_score(no_misc(gold), no_misc(pred)), abs=1e-9)
    assert ours["recall"] == pytest.approx(recall_score(no_misc(gold), no_misc(pred)), abs=1e-9)


def test_macro_f1_hand_case():
    gold = ["positive", "positive", "negative", "negative"]
    pred = ["positive", "negative", "negative", "negative"]
    out = macro_f1(gold, pred, labels=["negative", "positive"])
    # positive: P 1, R .5 -> 2/3; negative: P 2/3, R 1 -> 0.8
    assert out["f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert out["per_class"]["negative"]["support"] == 2


def test_macro_f1_agrees_with_sklearn():
    from sklearn.metrics import f1_score

    rng = random.Random(7)
    for _ in range(20):
        n = rng.randint(5, 300)
        gold = [rng.choice(["positive", "negative"]) for _ in range(n)]
        pred = [g if rng.random() < 0.7 else rng.choice(["positive", "negative"]) for g in gold]
        ours = macro_f1(gold, pred, labels=["negative", "positive"])["f1"]
        ref = f1_score(gold, pred, average="macro", labels=["negative", "positive"], zero_division=0)
        assert ours == pytest.approx(ref, abs=1e-12)
