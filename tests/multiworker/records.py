"""Pretraining TFRecords laid out so that 2 ranks x batch b see exactly what 1 process x batch 2b sees.

The single process reads one file whose records, in order, form global micro-batches of 2b.  Rank r's
file holds the records at positions r*b ... (r+1)*b - 1 of every global micro-batch, so with shuffling
off (shuffle buffer 1, one file per rank) rank 0 + rank 1 together get each global micro-batch.
Every record masks the same number of tokens: the MLM loss divides by the batch's summed weights, so
equal weights per rank make the mean of the ranks' losses equal to the loss over the whole batch.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SEQ, PRED, VOCAB = 32, 4, 64

# a tiny BERT without dropout, so ranks and the single process compute the same function
MODEL = {"attention_probs_dropout_prob": 0.0, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
         "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 64, "max_position_embeddings": 64,
         "num_attention_heads": 2, "num_hidden_layers": 2, "type_vocab_size": 2, "vocab_size": 0}


def instances(n: int, seed: int) -> list[dict[str, np.ndarray]]:
    """n random instances of SEQ tokens with exactly PRED masked positions each."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        n_real = int(rng.integers(SEQ // 2, SEQ + 1))
        len_a = (n_real - 3) // 2
        body = rng.integers(len(SPECIAL), VOCAB, size=n_real - 3)
        tokens = np.concatenate([[2], body[:len_a], [3], body[len_a:], [3]]).astype(np.int64)
        segments = np.concatenate([np.zeros(len_a + 2), np.ones(n_real - len_a - 2)]).astype(np.int64)
        cand = [i for i in range(n_real) if tokens[i] not in (2, 3)]
        pos = np.sort(rng.choice(cand, size=PRED, replace=False))
        masked = tokens.copy()
        masked[pos] = 4
        pad = SEQ - n_real
        out.append({
            "input_ids": np.pad(masked, (0, pad)), "input_mask": np.pad(np.ones(n_real, np.int64), (0, pad)),
            "segment_ids": np.pad(segments, (0, pad)), "masked_lm_positions": pos.astype(np.int64),
            "masked_lm_ids": tokens[pos], "masked_lm_weights": np.ones(PRED, np.float32),
            "next_sentence_labels": np.array([int(rng.integers(2))], np.int64),
        })
    return out


def _write(path: Path, records: list[dict[str, np.ndarray]]) -> None:
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(path)) as writer:
        for rec in records:
            feats = {k: tf.train.Feature(float_list=tf.train.FloatList(value=v.tolist())) if v.dtype == np.float32
                     else tf.train.Feature(int64_list=tf.train.Int64List(value=v.tolist())) for k, v in rec.items()}
            writer.write(tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString())


def write_layouts(root: Path, n: int, per_rank_batch: int, ranks: int = 2, seed: int = 3,
                  vocab: Path | None = None) -> tuple[Path, Path]:
    """`root/single/0000.tfrecord` (global order) and `root/ranks/000r.tfrecord` (rank r's share)."""
    import hashlib

    global_batch = per_rank_batch * ranks
    if n % global_batch:
        raise ValueError(f"{n} records do not fill whole global micro-batches of {global_batch}")
    recs = instances(n, seed)
    vocab = vocab or write_vocab_and_model(root)[0]
    record = {"path": str(vocab), "sha256": hashlib.sha256(vocab.read_bytes()).hexdigest(), "size": VOCAB}
    manifest = json.dumps({"phase": 1, "instances": n, "max_seq_length": SEQ, "max_predictions_per_seq": PRED,
                           "vocab_size": VOCAB, "vocab": record})
    single, split = root / "single", root / "ranks"
    for folder in (single, split):
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(manifest)
    _write(single / "0000.tfrecord", recs)
    for r in range(ranks):
        _write(split / f"{r:04d}.tfrecord", [rec for i, rec in enumerate(recs)
                                             if (i % global_batch) // per_rank_batch == r])
    return single, split


def write_vocab_and_model(root: Path) -> tuple[Path, Path]:
    vocab = root / "vocab.txt"
    vocab.write_text("".join(w + "\n" for w in SPECIAL + [f"w{i}" for i in range(VOCAB - len(SPECIAL))]))
    model = root / "bert_config.json"
    model.write_text(json.dumps(MODEL))
    return vocab, model
