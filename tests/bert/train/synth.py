"""Small NVIDIA-schema pretraining TFRecords with learnable structure, written by the tests themselves.

Tokens follow a Zipf law (as words do), so a model that learns the token statistics cuts the MLM loss
well below ln(V).  Segment B of a "random next" pair (label 1) is drawn from a shuffled vocabulary, a
bag-of-words difference a tiny BERT can pick up for NSP within a few hundred updates.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CLS, SEP, MASK = 2, 3, 4

SEQ, PRED, VOCAB = 32, 5, 120  # the tests' small data
# smoke config, pinned to the generated data's shapes so the tests do not depend on [bert_data] values
SMOKE = ["--config", "smoke", f"bert_data.phase1.max_seq_length={SEQ}",
         f"bert_data.phase1.max_predictions_per_seq={PRED}",
         f"bert_data.phase2.max_seq_length={2 * SEQ}", f"bert_data.phase2.max_predictions_per_seq={2 * PRED}"]


def write_vocab(path: Path, size: int) -> Path:
    words = SPECIAL + [f"w{i}" for i in range(size - len(SPECIAL))]
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return path


def make_instances(n: int, seq_len: int, max_pred: int, vocab_size: int, seed: int, exponent: float = 1.2):
    rng = np.random.default_rng(seed)
    first = len(SPECIAL)
    span = vocab_size - first
    ranks = np.arange(1, span + 1)
    probs = ranks ** -exponent / np.sum(ranks ** -exponent)
    # "random next" segments speak another dialect: the same Zipf law over a shuffled vocabulary
    other = np.random.default_rng(12345).permutation(span)
    out = []
    for _ in range(n):
        label = int(rng.integers(2))
        n_real = int(rng.integers(seq_len // 2, seq_len + 1))
        len_a = (n_real - 3) // 2
        len_b = n_real - 3 - len_a
        a = first + rng.choice(span, size=len_a, p=probs)
        b = rng.choice(span, size=len_b, p=probs)
        b = first + (other[b] if label == 1 else b)
        tokens = np.concatenate([[CLS], a, [SEP], b, [SEP]]).astype(np.int64)
        segments = np.concatenate([np.zeros(len_a + 2), np.ones(len_b + 1)]).astype(np.int64)
        cand = [i for i in range(n_real) if tokens[i] not in (CLS, SEP)]
        k = min(max_pred, max(1, int(round(n_real * 0.15))))
        pos = np.sort(rng.choice(cand, size=k, replace=False))
        labels = tokens[pos].copy()
        masked = tokens.copy()
        masked[pos] = MASK
        pad = seq_len - n_real
        out.append({
            "input_ids": np.pad(masked, (0, pad)),
            "input_mask": np.pad(np.ones(n_real, np.int64), (0, pad)),
            "segment_ids": np.pad(segments, (0, pad)),
            "masked_lm_positions": np.pad(pos, (0, max_pred - k)),
            "masked_lm_ids": np.pad(labels, (0, max_pred - k)),
            "masked_lm_weights": np.pad(np.ones(k, np.float32), (0, max_pred - k)),
            "next_sentence_labels": np.array([label], np.int64),
        })
    return out


def write_tfrecords(folder: Path, n: int, seq_len: int, max_pred: int, vocab_size: int, seed: int = 1,
                    files: int = 2, vocab_txt: Path | None = None, phase: int = 1) -> list[Path]:
    """Records plus the manifest bert-data would write (vocabulary: `vocab_txt`, else folder/../../vocab)."""
    import tensorflow as tf

    from norlm.bert.data.manifest import PretrainingManifest, describe_file, vocab_record

    folder.mkdir(parents=True, exist_ok=True)
    inst = make_instances(n, seq_len, max_pred, vocab_size, seed)
    paths = [folder / f"{i:04d}.tfrecord" for i in range(files)]
    writers = [tf.io.TFRecordWriter(str(p)) for p in paths]
    for i, rec in enumerate(inst):
        feats = {k: (tf.train.Feature(float_list=tf.train.FloatList(value=v.tolist())) if v.dtype == np.float32
                     else tf.train.Feature(int64_list=tf.train.Int64List(value=v.tolist())))
                 for k, v in rec.items()}
        writers[i % files].write(tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString())
    for w in writers:
        w.close()
    vocab_txt = vocab_txt or folder.parents[2] / "vocab" / "vocab.txt"
    if not vocab_txt.exists():  # records outside a work folder: describe them with their own vocab file
        vocab_txt = write_vocab(folder / "vocab.txt", vocab_size)
    counts = [len(range(i, n, files)) for i in range(files)]
    PretrainingManifest(phase=phase, instances=n, max_seq_length=seq_len, max_predictions_per_seq=max_pred,
                        vocab=vocab_record(vocab_txt, size=vocab_size),
                        files=tuple(describe_file(p, c) for p, c in zip(paths, counts))).write(folder / "manifest.json")
    return paths
