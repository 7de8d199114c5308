"""What pretraining bought: twin pairing and gain rows, unigram chance levels, held-out MLM instances,
the frozen BERT probe's word vectors and the untrained ELMo twin's export."""
from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest

from norlm.evaluate.results import summarise, write_result
from norlm.evaluate.twins import FINETUNE, FROZEN_BERT, FROZEN_ELMO, gain_lines


def _entry(scores):
    runs = [{"seed": i, "best_epoch": 1, "dev": {"score": s}, "test": {"score": s}, "seconds": 1.0}
            for i, s in enumerate(scores)]
    return {"runs": runs, "summary": summarise(runs)}


def _results(tmp_path, docs):
    from norlm.evaluate.eval_report import load_results
    from norlm.layout import Layout

    for (task, model), (header, scores) in docs.items():
        write_result(tmp_path / "eval" / task / f"{model}.json", header, "nob", _entry(scores))
    return load_results(Layout(tmp_path))


def test_each_model_is_compared_with_its_own_twin(tmp_path):
    bert, elmo = {"kind": "bert"}, {"kind": "elmo"}
    results = _results(tmp_path, {
        ("pos", "elmo"): ({**elmo, "label": "ELMo"}, [0.63, 0.64, 0.62]),
        ("pos", "elmo-random"): ({**elmo, "label": "twin"}, [0.40, 0.41, 0.405]),
        ("pos", "bert"): ({**bert, "label": "BERT"}, [0.77]),
        ("pos", "baseline"): ({**bert, "label": "rand"}, [0.76]),
        ("pos", "bert-frozen"): ({**bert, "frozen": True, "label": "BERT frozen"}, [0.50, 0.52, 0.51]),
        ("pos", "baseline-frozen"): ({**bert, "frozen": True, "label": "rand frozen"}, [0.50, 0.49, 0.51]),
        ("pos", "nb-bert"): ({**bert, "label": "nb-bert (imported)"}, [0.90]),
    })
    text = "\n".join(gain_lines(results))
    assert (f"| pos | nob | ELMo | {FROZEN_ELMO} | 63.0 ± 1.0 | 40.5 ± 0.5 | +22.5 | 3 (sd of the difference 1.1) "
            "| gain beyond 2 × sd |") in text
    assert (f"| pos | nob | BERT frozen | {FROZEN_BERT} | 51.0 ± 1.0 | 50.0 ± 1.0 | +1.0 | 3 (sd of the difference 1.4) "
            "| not distinguishable |") in text
    # one seed: the difference is shown, and no verdict (even +14 points: a one-seed row cannot be judged)
    assert f"| pos | nob | BERT | {FINETUNE} | 77.0 | 76.0 | +1.0 | one seed | one seed: no verdict |" in text
    assert f"| pos | nob | nb-bert (imported) | {FINETUNE} | 90.0 | 76.0 | +14.0 | one seed | one seed: no verdict |" in text
    assert text.count("| pos | nob |") == 4  # twins have no row of their own


def test_verdict_is_against_twice_the_larger_sd():
    from norlm.evaluate.twins import GAIN, LOSS, TIE, gain_row

    def summary(mean, sd, n=3):
        return {"test_mean": mean, "test_sd": sd, "seeds": list(range(n))}

    assert gain_row("ner", "nob", "m", "p", summary(0.136, 0.010), summary(0.179, 0.007))[-1] == LOSS
    assert gain_row("ner", "nob", "m", "p", summary(0.200, 0.010), summary(0.181, 0.005))[-1] == TIE
    assert gain_row("ner", "nob", "m", "p", summary(0.200, 0.010), summary(0.179, 0.005))[-1] == GAIN
    assert gain_row("ner", "nob", "m", "p", summary(0.9, 0.0, 1), summary(0.1, 0.0, 3))[-1] == "one seed: no verdict"


def test_probe_protocol_sets_its_own_seed_count():
    from types import SimpleNamespace

    from norlm.evaluate.runner import Runner
    from norlm.evaluate.settings import BertProtocol, ElmoProtocol

    cfg = SimpleNamespace(evaluate=None, run=SimpleNamespace(seed=100, data_dir="data"))
    runner = Runner(cfg, None, [100])
    assert runner.seeds_of(ElmoProtocol(seeds=3)) == [100, 101, 102]
    assert runner.seeds_of(ElmoProtocol()) == [100]
    assert runner.seeds_of(BertProtocol()) == [100]
    forced = Runner(cfg, None, [100, 101], cli_seeds=2)  # --seeds 2 wins over the protocol's count
    assert forced.seeds_of(ElmoProtocol(seeds=3)) == [100, 101]


def test_unigram_chance_of_masked_targets():
    from norlm.evaluate.learning_signals_bert import unigram_chance

    out = unigram_chance(np.array([1, 1, 2, 3]), Counter({1: 3, 2: 1}))
    p = np.array([0.5, 3.5, 1.5, 0.5]) / 6.0  # add-0.5 over 4 ids, 4 training pieces
    assert out["train_unigram_xent"] == pytest.approx(-(2 * math.log(p[1]) + math.log(p[2]) + math.log(p[3])) / 4)
    assert out["train_top_piece_accuracy"] == 0.5 and out["own_top_piece_accuracy"] == 0.5
    assert out["own_unigram_entropy"] == pytest.approx(1.5 * math.log(2)) and out["targets"] == 4


def test_elmo_unigram_perplexity_predicts_both_directions():
    from norlm.elmo.vocabulary import WordIds
    from norlm.evaluate.learning_signals_elmo import direction_targets, unigram_perplexity

    vocab = WordIds(["<S>", "</S>", "<UNK>", "a", "b"])
    assert direction_targets([["a", "b", "zz"]], vocab) == ([3, 4, 2, 1], [2, 4, 3, 0])
    out = unigram_perplexity([["a", "b"]], [["a", "a"]], vocab)
    # each direction: train counts a:2 and one end token, add-0.5 over 5 ids -> total 5.5
    xent = -(math.log(2.5 / 5.5) + math.log(0.5 / 5.5) + math.log(1.5 / 5.5)) / 3
    assert out["train_unigram_perplexity"] == pytest.approx(math.exp(xent))
    assert out["own_unigram_perplexity"] == pytest.approx(3.0) and out["targets"] == 6


def test_heldout_pairs_follow_the_pretraining_layout():
    from norlm.evaluate.learning_signals_bert import RANDOM_GAP, build_batch, pack_pairs

    pieces = [[100 + i] * 3 for i in range(80)]
    pairs = pack_pairs(pieces, 10, np.random.default_rng(0))
    assert 25 <= len(pairs) <= 45 and 0.25 < np.mean([p[2] for p in pairs]) < 0.75
    for a, b, random_next in pairs:
        assert len(a) == 3 and len(b) in (3, 6)  # A: half the budget; B: the rest (less at the text's end)
        gap = b[0] - a[0]
        assert (abs(gap) > RANDOM_GAP) if random_next else gap == 1
    ids = {"[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
    batch = build_batch(pairs[:4], 13, 5, ids, np.arange(5, 50, dtype=np.int32), np.random.default_rng(1))
    row = batch["input_ids"][0]
    assert row[0] == 2 and row[4] == 3 and row[11] == 3 and row[12] == 0
    assert batch["segment_ids"][0].tolist() == [0] * 5 + [1] * 7 + [0]
    assert batch["input_mask"][0].tolist() == [1] * 12 + [0]
    assert batch["masked_lm_weights"].sum(1).tolist() == [2.0] * 4  # round(12 * 0.15)
    assert batch["next_sentence_labels"].tolist() == [p[2] for p in pairs[:4]]


def test_frozen_bert_word_vector_is_the_mean_of_its_pieces(tiny_hf_bert):
    import tensorflow as tf

    from norlm.evaluate.bert_probe import BertWordEmbedder

    emb = BertWordEmbedder(tiny_hf_bert, pretrained=True, seed=1)
    sentences = [["Kvinnefotballen", "i", "Kristiansand"], ["Ja", "."]]
    vectors = emb.embed(sentences)
    assert vectors.shape == (2, 3, 32) and not vectors[1, 2].any()
    ids, words = emb.pieces(sentences[:1])
    assert words[0].count(0) >= 2  # the long word is split, so the mean is over several pieces
    seq = emb.bundle.model.encode(tf.constant([ids[0]]), tf.ones([1, len(ids[0])], tf.int32),
                                  tf.zeros([1, len(ids[0])], tf.int32))[0].numpy()[0]
    for w in range(3):
        expected = seq[[p for p, x in enumerate(words[0]) if x == w]].mean(0)
        np.testing.assert_allclose(vectors[0, w], expected, rtol=1e-4, atol=1e-5)
    twin = BertWordEmbedder(tiny_hf_bert, pretrained=False, seed=1).embed(sentences)
    assert np.abs(twin - vectors).max() > 1e-3


def test_heldout_bert_signals_on_a_tiny_model(tiny_hf_bert):
    from norlm.evaluate.learning_signals import heldout_text, render
    from norlm.evaluate.learning_signals_bert import bert_signals
    from norlm.layout import REPO_ROOT

    sentences = heldout_text(REPO_ROOT / "data")[:200]
    lines = [" ".join(s) for s in heldout_text(REPO_ROOT / "data")[-500:]]
    from norlm.evaluate.bert_models import load_bert

    twin = load_bert(tiny_hf_bert, pretrained=False, seed=3).model
    out = bert_signals(load_bert(tiny_hf_bert), twin, sentences, lines, seed=3, passes=1)
    t, r, c = out["trained"], out["random_init"], out["chance"]
    assert t["masked_targets"] == c["targets"] > 300 and out["pairs"] == t["sequences"]
    # both are untrained here, so near the uniform cross-entropy, far above the unigram level
    assert abs(r["mlm_loss"] - out["uniform_xent"]) < 1.0 and t["mlm_loss"] > c["train_unigram_xent"]
    assert 4.0 < c["own_unigram_entropy"] < c["train_unigram_xent"]
    assert 0.3 < out["random_next_share"] < 0.7 and 0.0 <= t["nsp_accuracy"] <= 1.0
    m = out["margins"]
    assert m["resamples"] == 1000 and m["method"] == f"bootstrap over the {out['pairs']:,} held-out A/B sequences"
    lo, value, hi = (m["loss_minus_train_unigram"][k] for k in ("low", "measured", "high"))
    assert 0 < lo < value < hi and abs(m["mlm_loss_judged"] - t["mlm_loss"]) < 0.5  # an untrained model copies nothing
    assert m["nsp_accuracy"]["measured"] == pytest.approx(t["nsp_accuracy"], abs=1e-6)
    text = "\n".join(render({"bert": out}))
    assert "above the corpus unigram level" in text and f"{t['mlm_loss']:.2f} (" in text
    assert m["mlm_targets_judged"] < t["masked_targets"] and "targets whose input was [MASK]" in text


TINY = {"bidirectional": True, "dropout": 0.1,
        "char_cnn": {"activation": "relu", "embedding": {"dim": 4}, "filters": [[1, 8], [2, 8]],
                     "max_characters_per_token": 50, "n_characters": 261, "n_highway": 1},
        "lstm": {"dim": 16, "projection_dim": 8, "n_layers": 2, "cell_clip": 3, "proj_clip": 3,
                 "use_skip_connections": True}}


def test_untrained_twin_is_the_training_start(tmp_path):
    from norlm.config import load_config
    from norlm.elmo.embed import ElmoEmbedder
    from norlm.elmo.model import ElmoModel
    from norlm.elmo.export import write_twin
    from norlm.elmo.random_init import random_weights

    cfg = load_config("configs/smoke.toml")
    train_dir = tmp_path / "train"
    train_dir.mkdir()
    (train_dir / "run-elmo-train.json").write_text(json.dumps({"seed": 7}))
    vocab = ["<S>", "</S>", "<UNK>", "og", "i"]
    assert write_twin(tmp_path / "random", cfg, TINY, vocab, train_dir) == 7
    import h5py

    start = ElmoModel(TINY, n_vocab=5, seed=7)  # what elmo-train's Trainer builds with seed 7
    with h5py.File(tmp_path / "random" / "model.hdf5", "r") as h5:
        np.testing.assert_array_equal(h5["char_embed"][()], start.vars["lm/char_embed"].numpy())
    options = json.loads((tmp_path / "random" / "options.json").read_text())
    assert options["char_cnn"]["n_characters"] == 262
    assert (tmp_path / "random" / "vocab.txt").read_text().split() == vocab
    other = random_weights(TINY, 5, 8)
    assert np.abs(other["lm/char_embed"] - start.vars["lm/char_embed"].numpy()).max() > 0.1
    vectors = ElmoEmbedder(tmp_path / "random").embed([["og", "i"]], layers="average")
    assert np.asarray(vectors).shape == (1, 2, 16)


def _verdicts(loss_shift: float, n_rows: int = 400, per_row: int = 20, seed: int = 0) -> tuple[str, dict]:
    """MLM-loss verdict for targets drawn from a known unigram p, scored by a 'model' whose per-target loss
    is -log p(target) + `loss_shift` nats plus noise (context-free when the shift is >= 0)."""
    from norlm.evaluate.learning_signals import mlm_loss_verdict
    from norlm.evaluate.learning_signals_spread import spread

    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, 501)
    p /= p.sum()
    targets = rng.choice(500, size=n_rows * per_row, p=p)
    rows = np.repeat(np.arange(n_rows), per_row)
    nll = -np.log(p[targets]) + loss_shift + rng.normal(0, 0.3, len(targets))
    per = {"nll": nll, "hit": targets == 0, "nsp_hit": rng.random(n_rows) < 0.5}
    chance_nll = -np.log(p[targets]) + 0.25  # a corpus unigram somewhat worse than the true one
    m = spread(per, targets, rows, chance_nll, targets == 0, np.random.default_rng(1), resamples=300)
    return mlm_loss_verdict(m), m


def test_the_context_verdict_needs_a_margin():
    """The true unigram itself (the best context-free predictor) is not judged to use the context, a model
    0.3 nats better is, and worse ones land on the corpus-unigram verdicts."""
    text, m = _verdicts(0.0)
    best = m["loss_minus_best_unigram"]
    assert best["low"] < 0 < best["high"] and best["measured"] > best["value"]  # the plug-in level is biased low
    assert text.startswith("below the corpus unigram") and "not below the best context-free predictor" in text
    assert text.endswith("word frequencies, not measurably the context.")
    text, _ = _verdicts(-0.3)
    assert text.startswith("below even the best context-free predictor") and "uses its context" in text
    text, _ = _verdicts(+0.25)
    assert text.startswith("not distinguishable from the corpus unigram level")
    text, _ = _verdicts(+0.6)
    assert text.startswith("above the corpus unigram level") and text.endswith("word frequencies at most, not the context.")
