"""What the demo BERT learned, against chance: held-out MLM loss and accuracy next to a unigram
predictor of the same masked targets, NSP accuracy next to 50 %.

The held-out text is the UD test split (NDT test sentences, never in the pretraining corpus, which
takes NDT train only).  Instances are built like the pretraining data (consecutive sentences packed
into A and B, half of the B segments from a random far-away place, 15 % of the pieces masked with
norlm.bert.data.masking) and scored with the exported model's own MLM and NSP heads.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from norlm.evaluate.learning_signals_spread import spread

RANDOM_GAP = 20  # a random-next B segment starts at least this many sentences away from A


def pack_pairs(pieces: list[list[int]], budget: int, rng: np.random.Generator) -> list[tuple[list, list, int]]:
    """(A, B, is_random_next) pairs: A and B each about half of `budget` pieces of consecutive sentences."""
    half = max(1, budget // 2)

    def take(start: int, limit: int) -> tuple[list[int], int]:
        seg, j = [], start
        while j < len(pieces) and (not seg or len(seg) + len(pieces[j]) <= limit):
            seg += pieces[j]
            j += 1
        return seg[:limit], j

    pairs, i = [], 0
    while i < len(pieces) - 1:
        a, j = take(i, half)
        if j >= len(pieces):
            break
        random_next = bool(rng.random() < 0.5) and len(pieces) > 2 * RANDOM_GAP + 2
        if random_next:
            far = [k for k in (int(rng.integers(0, len(pieces))) for _ in range(10)) if abs(k - i) > RANDOM_GAP]
            random_next = bool(far)
        if random_next:
            b, _ = take(far[0], budget - len(a))
            i = j
        else:
            b, i = take(j, budget - len(a))
        if a and b:
            pairs.append((a, b, int(random_next)))
    return pairs


def build_batch(pairs: list, max_seq_length: int, max_predictions: int, ids: dict, random_ids: np.ndarray,
                rng: np.random.Generator, masked_lm_prob: float = 0.15) -> dict:
    """[CLS] A [SEP] B [SEP] arrays, masked as in pretraining."""
    from norlm.bert.data.masking import mask_batch

    n = len(pairs)
    input_ids = np.zeros((n, max_seq_length), np.int32)
    segment_ids = np.zeros((n, max_seq_length), np.int32)
    lengths = np.zeros(n, np.int64)
    labels = np.zeros(n, np.int32)
    for r, (a, b, random_next) in enumerate(pairs):
        seq = [ids["[CLS]"], *a, ids["[SEP]"], *b, ids["[SEP]"]][:max_seq_length]
        input_ids[r, :len(seq)] = seq
        segment_ids[r, len(a) + 2:len(seq)] = 1
        lengths[r], labels[r] = len(seq), random_next
    input_mask = (np.arange(max_seq_length)[None, :] < lengths[:, None]).astype(np.int32)
    positions, label_ids, weights = mask_batch(
        input_ids, lengths, masked_lm_prob=masked_lm_prob, max_predictions=max_predictions,
        cls_id=ids["[CLS]"], sep_id=ids["[SEP]"], mask_id=ids["[MASK]"], random_ids=random_ids, rng=rng)
    return {"input_ids": input_ids, "input_mask": input_mask, "segment_ids": segment_ids,
            "masked_lm_positions": positions, "masked_lm_ids": label_ids, "masked_lm_weights": weights,
            "next_sentence_labels": labels}


def train_unigram(train_counts: Counter, targets: np.ndarray) -> tuple[np.ndarray, int]:
    """Add-0.5 smoothed piece probabilities of the training text (over every id seen) and its most
    frequent piece."""
    total = sum(train_counts.values())
    vocab = max(max(train_counts, default=0), int(targets.max(initial=0))) + 1
    probs = np.full(vocab, 0.5, np.float64)  # add-0.5 smoothing, so no target has probability 0
    for piece, count in train_counts.items():
        probs[piece] += count
    probs /= total + 0.5 * vocab
    top = max(train_counts, key=train_counts.get) if train_counts else 0
    return probs, top


def unigram_chance(targets: np.ndarray, train_counts: Counter) -> dict:
    """A unigram predictor of `targets`: fitted on the training text (cross-entropy, accuracy of its
    most frequent piece) and the targets' own distribution (plug-in entropy: no unigram does better)."""
    probs, top = train_unigram(train_counts, targets)
    own = np.bincount(targets, minlength=len(probs)) / max(len(targets), 1)
    nonzero = own[own > 0]
    return {"train_unigram_xent": float(-np.log(probs[targets]).mean()),
            "train_top_piece_accuracy": float((targets == top).mean()),
            "own_unigram_entropy": float(-(nonzero * np.log(nonzero)).sum()),
            "own_top_piece_accuracy": float(own.max(initial=0.0)),
            "targets": int(len(targets))}


def corpus_piece_counts(tokenizer, lines) -> Counter:
    """Piece frequencies of the pretraining text (what a unigram model would be fitted on)."""
    counts: Counter = Counter()
    batch = []
    for line in lines:
        line = line.strip()
        if line:
            batch.append(line)
        if len(batch) == 4096:
            for enc in tokenizer.encode_batch(batch, add_special_tokens=False):
                counts.update(enc.ids)
            batch = []
    for enc in tokenizer.encode_batch(batch, add_special_tokens=False):
        counts.update(enc.ids)
    return counts


def score_mlm_nsp(model, batch: dict, batch_size: int = 64) -> dict:
    """Weighted held-out MLM loss/accuracy and NSP accuracy of a BertPretrainingModel, plus the
    per-target loss and hit and the per-sequence NSP hit (under "per", for the spread)."""
    import tensorflow as tf

    from norlm.bert.train.losses import pretraining_losses

    @tf.function(reduce_retracing=True)
    def run(part):
        out = model(part["input_ids"], part["input_mask"], part["segment_ids"], part["masked_lm_positions"])
        logits = tf.cast(out["mlm_logits"], tf.float32)
        ids = tf.cast(part["masked_lm_ids"], tf.int32)
        nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=logits)
        hit = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), ids)
        nsp = tf.equal(tf.argmax(out["nsp_logits"], axis=-1, output_type=tf.int32),
                       tf.reshape(tf.cast(part["next_sentence_labels"], tf.int32), [-1]))
        return pretraining_losses(out, part), nll, hit, nsp

    sums = {"mlm_loss": 0.0, "mlm_acc": 0.0, "nsp_acc": 0.0, "nsp_loss": 0.0}
    weight, count = 0.0, 0
    per: dict[str, list] = {"nll": [], "hit": [], "nsp_hit": []}
    for start in range(0, len(batch["input_ids"]), batch_size):
        part = {k: tf.constant(v[start:start + batch_size]) for k, v in batch.items()}
        losses, nll, hit, nsp = run(part)
        keep = batch["masked_lm_weights"][start:start + batch_size] > 0
        per["nll"].append(nll.numpy()[keep])
        per["hit"].append(hit.numpy()[keep])
        per["nsp_hit"].append(nsp.numpy())
        w, n = float(tf.reduce_sum(part["masked_lm_weights"])), int(part["input_ids"].shape[0])
        sums["mlm_loss"] += float(losses["mlm_loss"]) * w
        sums["mlm_acc"] += float(losses["mlm_accuracy"]) * w
        sums["nsp_acc"] += float(losses["nsp_accuracy"]) * n
        sums["nsp_loss"] += float(losses["nsp_loss"]) * n
        weight, count = weight + w, count + n
    return {"mlm_loss": sums["mlm_loss"] / weight, "mlm_accuracy": sums["mlm_acc"] / weight,
            "nsp_accuracy": sums["nsp_acc"] / count, "nsp_loss": sums["nsp_loss"] / count,
            "sequences": count, "masked_targets": int(weight),
            "per": {k: np.concatenate(v) for k, v in per.items()}}


def judged_spread(per: dict, batch: dict, targets: np.ndarray, counts: Counter, mask_id: int, seed: int) -> dict:
    """The spread of the MLM and NSP signals, the MLM ones on the targets whose input was [MASK] only:
    the other 20 % show the model the original piece (or a random one), and copying the original
    would beat every unigram without any use of the context."""
    rows, slots = np.nonzero(batch["masked_lm_weights"] > 0)  # each target's sequence, in target order
    shown = batch["input_ids"][rows, batch["masked_lm_positions"][rows, slots]]
    keep = shown == mask_id
    probs, top = train_unigram(counts, targets)
    judged = {"nll": per["nll"][keep], "hit": per["hit"][keep], "nsp_hit": per["nsp_hit"]}
    out = spread(judged, targets[keep], rows[keep], -np.log(probs[targets[keep]]), targets[keep] == top,
                 np.random.default_rng([seed, 21]))
    return {**out, "mlm_targets_judged": int(keep.sum()),
            "mlm_loss_judged": float(judged["nll"].mean()), "mlm_accuracy_judged": float(judged["hit"].mean())}


def bert_signals(bundle, twin, sentences: list[list[str]], corpus_lines, seed: int, max_seq_length: int = 128,
                 max_predictions: int = 20, passes: int = 2) -> dict:
    """Held-out MLM/NSP of a BertBundle and of its random-init twin (a BertPretrainingModel), with the
    unigram chance levels."""
    tok = bundle.tokenizer
    ids = {name: tok.token_to_id(name) for name in ("[CLS]", "[SEP]", "[MASK]")}
    random_ids = np.arange(tok.get_vocab_size(with_added_tokens=True), dtype=np.int32)
    pieces = [e.ids for e in tok.encode_batch(sentences, is_pretokenized=True, add_special_tokens=False)]
    max_seq_length = min(max_seq_length, bundle.config.max_position_embeddings)
    rng = np.random.default_rng([seed, 20])
    pairs = [p for _ in range(passes) for p in pack_pairs(pieces, max_seq_length - 3, rng)]
    batch = build_batch(pairs, max_seq_length, max_predictions, ids, random_ids, rng)
    targets = batch["masked_lm_ids"][batch["masked_lm_weights"] > 0].astype(np.int64)
    counts = corpus_piece_counts(tok, corpus_lines)
    chance = unigram_chance(targets, counts)
    trained = score_mlm_nsp(bundle.model, batch)
    untrained = score_mlm_nsp(twin, batch)
    untrained.pop("per")
    margins = judged_spread(trained.pop("per"), batch, targets, counts, ids["[MASK]"], seed)
    labels = batch["next_sentence_labels"]
    return {"trained": trained, "random_init": untrained, "chance": chance, "margins": margins,
            "sentences": len(sentences),
            "pairs": len(pairs), "random_next_share": float(labels.mean()), "max_seq_length": max_seq_length,
            "max_predictions": max_predictions, "uniform_xent": math.log(len(random_ids))}
