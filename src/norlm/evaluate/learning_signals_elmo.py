"""What the demo ELMo learned, against chance: its held-out perplexity next to the perplexity of a
unigram model of the same held-out targets.

elmo-train measures the held-out perplexity on the first `elmo.heldout_sentences` sentences of the
last corpus shard (training skips them), over both directions: forward targets are the words then
</S>, backward targets the words reversed then <S>, every word mapped to the vocabulary (OOV ->
<UNK>).  The unigram models here predict exactly those targets, one distribution per direction.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from norlm.elmo.chars import BOS_TOKEN, EOS_TOKEN


def direction_targets(sentences, vocab) -> tuple[list[int], list[int]]:
    """Target ids of the forward and the backward LM over `sentences` (lists of words)."""
    forward, backward = [], []
    eos, bos = vocab(EOS_TOKEN), vocab(BOS_TOKEN)
    for words in sentences:
        ids = [vocab(w) for w in words]
        forward += ids + [eos]
        backward += ids[::-1] + [bos]
    return forward, backward


def _xent(targets: list[int], counts: Counter, n_vocab: int) -> float:
    """Mean -log p of `targets` under `counts` with add-0.5 smoothing over the vocabulary."""
    total = sum(counts.values()) + 0.5 * n_vocab
    return float(np.mean([-math.log((counts.get(t, 0) + 0.5) / total) for t in targets]))


def _entropy(targets: list[int]) -> float:
    counts = np.asarray(list(Counter(targets).values()), np.float64)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def unigram_perplexity(heldout, train, vocab) -> dict:
    """Unigram perplexity of the held-out targets: fitted on `train` and on the targets themselves."""
    fw, bw = direction_targets(heldout, vocab)
    train_fw, train_bw = direction_targets(train, vocab)
    n = len(vocab)
    fitted = (len(fw) * _xent(fw, Counter(train_fw), n) + len(bw) * _xent(bw, Counter(train_bw), n)) / (len(fw) + len(bw))
    own = (len(fw) * _entropy(fw) + len(bw) * _entropy(bw)) / (len(fw) + len(bw))
    return {"train_unigram_perplexity": math.exp(fitted), "own_unigram_perplexity": math.exp(own),
            "targets": len(fw) + len(bw), "train_targets": len(train_fw) + len(train_bw)}


def elmo_signals(lay) -> dict | None:
    """Held-out perplexity of the trained ELMo (and at step 0) against the unigram levels; None if
    elmo-train kept no held-out sentences."""
    from norlm.elmo.text import corpus_shards, read_sentences
    from norlm.elmo.vocabulary import WordIds, load_vocab
    from norlm.files import read_json

    final = read_json(lay.elmo_final)
    if not final.get("heldout_sentences"):
        return None
    shards = corpus_shards(lay.corpus_dir)
    vocab = WordIds(load_vocab(lay.elmo_vocab))
    n_held = int(final["heldout_sentences"])
    heldout, train = [], []
    for shard in shards:
        for i, words in enumerate(read_sentences(shard)):
            (heldout if shard == shards[-1] and i < n_held else train).append(words)
    out = unigram_perplexity(heldout, train, vocab)
    out.update(trained_perplexity=float(final["heldout_perplexity"]),
               start_perplexity=float(final["heldout_perplexity_start"]), heldout_sentences=n_held,
               steps=int(final.get("step", 0)))
    return out
