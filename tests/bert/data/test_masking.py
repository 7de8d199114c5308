"""Static masking (bert-recipe §1.5) on a batch of real instances."""
from __future__ import annotations

import numpy as np
import pytest

from norlm.bert.data.instances import assemble, make_pairs
from norlm.bert.data.masking import mask_batch, num_to_predict
from norlm.bert.data.shard_tokens import read_shard

from norlm.corpus.samples import ndt_documents, write_shards

CLS, SEP, MASK = 102, 103, 104


@pytest.fixture(scope="module")
def batch(tmp_path_factory, tokenizer_json):
    from norlm.vocab.tokenizer import load_tokenizer

    tok = load_tokenizer(tokenizer_json)
    path = write_shards(ndt_documents(60), tmp_path_factory.mktemp("ndt60"), 1)[0]
    shard = read_shard(path, tok)
    pairs = make_pairs(shard, 128, 0.1, np.random.default_rng(0))
    ids, _, _, lengths = assemble(shard.tokens, pairs, 128, CLS, SEP)
    vocab = tok.get_vocab()
    continuation = np.zeros(tok.get_vocab_size(), bool)
    continuation[[i for t, i in vocab.items() if t.startswith("##")]] = True
    return ids, lengths, np.array(sorted(set(vocab.values())), np.int32), continuation


def test_round_half_even_like_python():
    lengths = np.arange(5, 600)
    want = [min(77, max(1, int(round(n * 0.15)))) for n in lengths]
    np.testing.assert_array_equal(num_to_predict(lengths, 0.15, 77), want)
    assert num_to_predict(np.array([128]), 0.15, 20)[0] == 19  # the cap of 20 is never reached at 128


def test_token_masking_counts_positions_and_replacements(batch):
    original, lengths, random_ids, _ = batch
    ids = original.copy()
    pos, labels, weights = mask_batch(ids, lengths, masked_lm_prob=0.15, max_predictions=20, cls_id=CLS, sep_id=SEP,
                                      mask_id=MASK, random_ids=random_ids, rng=np.random.default_rng(1))
    n = len(ids)
    rows = np.arange(n)[:, None]
    valid = weights > 0
    np.testing.assert_array_equal(valid.sum(1), np.minimum(20, np.maximum(1, np.round(lengths * 0.15))))
    assert (valid[:, :-1] >= valid[:, 1:]).all()  # real predictions first, then padding
    p = np.where(valid, pos, 10 ** 6)
    assert (np.diff(p, axis=1)[valid[:, 1:]] > 0).all()  # strictly ascending
    assert (pos[~valid] == 0).all() and (labels[~valid] == 0).all()
    assert not np.isin(original[rows, pos][valid], [CLS, SEP]).any()
    assert (pos[valid] < np.broadcast_to(lengths[:, None], pos.shape)[valid]).all()
    np.testing.assert_array_equal(labels[valid], original[rows, pos][valid])
    now = ids[rows, pos][valid]
    masked, kept = now == MASK, now == labels[valid]
    assert abs(masked.mean() - 0.8) < 0.015 and abs(kept.mean() - 0.1) < 0.015
    assert abs((~masked & ~kept).mean() - 0.1) < 0.015
    changed = ids != original
    assert changed.sum() <= valid.sum() and (changed.sum(1) <= valid.sum(1)).all()


def test_whole_word_masking_takes_complete_words(batch):
    original, lengths, random_ids, continuation = batch
    ids = original.copy()
    pos, labels, weights = mask_batch(ids, lengths, masked_lm_prob=0.15, max_predictions=20, cls_id=CLS, sep_id=SEP,
                                      mask_id=MASK, random_ids=random_ids, rng=np.random.default_rng(2),
                                      continuation=continuation)
    valid = weights > 0
    k = np.minimum(20, np.maximum(1, np.round(lengths * 0.15)))
    assert (valid.sum(1) <= k).all() and (valid.sum(1) >= 1).all()
    assert valid.sum() > 0.9 * k.sum()
    selected = np.zeros(ids.shape, bool)
    selected[np.nonzero(valid)[0], pos[valid]] = True
    cont = continuation[original] & ~np.isin(original, [CLS, SEP])
    # a continuation piece is masked exactly when the piece before it is
    inner = cont[:, 1:] & ~np.isin(original[:, :-1], [CLS, SEP])
    assert (selected[:, 1:][inner] == selected[:, :-1][inner]).all()
    assert inner.sum() > 1000
