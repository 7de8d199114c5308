"""elmo-train's plan: bilm-tf's step count, and bad inputs stopped with one line before a model is built."""
from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

import pytest

from norlm.config import load_config
from norlm.elmo.train_plan import make_plan, plan_steps
from norlm.errors import StageError
from tests.conftest import REPO


def test_plan_steps_divides_tokens_by_the_global_batch():
    ec = SimpleNamespace(batch_size=8, unroll_steps=10, n_epochs=3, max_steps=0)
    assert plan_steps(ec, 10_000, 1) == (125, 375)
    assert plan_steps(ec, 10_000, 2) == (62, 186)  # int(10000 / 160): bilm-tf rounds down
    assert plan_steps(ec, 10, 4) == (1, 3)  # never 0 batches per epoch
    assert plan_steps(SimpleNamespace(**{**vars(ec), "max_steps": 100}), 10_000, 1) == (125, 100)


def _inputs(tmp_path, words=("<S>", "</S>", "<UNK>", *[f"w{i}" for i in range(100)]), shard=True):
    vocab_dir, corpus = tmp_path / "elmo", tmp_path / "corpus"
    vocab_dir.mkdir()
    corpus.mkdir()
    (vocab_dir / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    (vocab_dir / "counts.json").write_text(json.dumps({"n_train_tokens": 4000}))
    if shard:
        (corpus / "wiki-0000.txt").write_text("w1 w2 w3 .\nw4 w5 .\n\nw6 w7 .\n", encoding="utf-8")
    return argparse.Namespace(corpus=str(corpus), vocab_dir=str(vocab_dir), out=str(tmp_path / "train"))


def _cfg(*overrides):
    return load_config(REPO / "configs" / "smoke.toml", ["elmo.heldout_sentences=2", *overrides])


def test_plan_of_a_small_run(tmp_path):
    plan = make_plan(_inputs(tmp_path), _cfg())
    assert (plan.per_epoch, plan.total_steps) == (50, 40)  # 4000 / (8·10) batches, capped by max_steps 40
    assert plan.tokens_per_step == 2 * 8 * 10 and plan.world == 1 and plan.rank == 0
    assert plan.heldout == [["w1", "w2", "w3", "."], ["w4", "w5", "."]]
    assert plan.holdout == {str(plan.shards[-1]): 2}
    assert plan.ckpt_dir == tmp_path / "train" / "ckpt"
    assert plan.options["n_tokens_vocab"] == 103 and plan.options["n_train_tokens"] == 4000


@pytest.mark.parametrize("case, message", [
    ("no shards", "no corpus shards in "),
    ("bad vocab", "an ELMo vocabulary must start with <S>, </S>, <UNK>"),
    ("few words", "n_negative_samples 64 must be below the vocabulary size 13"),
])
def test_bad_inputs_stop_with_one_line(tmp_path, case, message):
    words = {"bad vocab": ("<UNK>", "<S>", "</S>", "w"),
             "few words": ("<S>", "</S>", "<UNK>", *[f"w{i}" for i in range(10)])}
    args = _inputs(tmp_path, **({"words": words[case]} if case in words else {}), shard=case != "no shards")
    with pytest.raises(StageError, match=message.replace("(", r"\(")):
        make_plan(args, _cfg())
