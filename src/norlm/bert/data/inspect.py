"""Count the instances of a pretraining TFRecord file and decode some back to WordPiece tokens.

    norlm bert-data-inspect WORK/bert/tfrecords/phase1/0000.tfrecord [--show 3] [--vocab FILE]

Sequence length, prediction count and vocabulary are taken from the manifest.json next to the
file (or --max-seq-length / --max-predictions / --vocab).  Each shown instance is printed with
its segments; a masked position shows `input→original`.  The summary gives the number of
instances, the mean real length, the mean number of predictions and the random-next share.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a .tfrecord file written by `norlm bert-data`")
    parser.add_argument("--show", type=int, default=3, help="instances to decode (default 3)")
    parser.add_argument("--vocab", default=None, help="tokenizer.json or vocab.txt (default: from manifest.json)")
    parser.add_argument("--max-seq-length", type=int, default=None)
    parser.add_argument("--max-predictions", type=int, default=None)


def _decoder(path: str):
    from norlm.vocab.tokenizer import build_tokenizer, load_tokenizer

    tok = load_tokenizer(path) if path.endswith(".json") else build_tokenizer(path)
    return lambda i: tok.id_to_token(int(i)) or f"<{int(i)}>"


def describe(instance: dict, token) -> str:
    """One instance as text: segment A | segment B, masked positions as `shown→original`."""
    length = int(instance["input_mask"].sum())
    triples = zip(instance["masked_lm_positions"], instance["masked_lm_ids"], instance["masked_lm_weights"])
    originals = {int(p): int(t) for p, t, w in triples if w > 0}
    words = []
    for i in range(length):
        shown = token(instance["input_ids"][i])
        words.append(f"{shown}→{token(originals[i])}" if i in originals else shown)
    label = "random next" if int(instance["next_sentence_labels"][0]) else "IsNext"
    seg_b = int(instance["segment_ids"].sum())
    return (f"length {length}, {len(originals)} predictions, segment B {seg_b} tokens, {label}\n  "
            + " ".join(words))


def main(args: argparse.Namespace, cfg) -> int:
    import numpy as np

    from norlm.bert.data.manifest import read_manifest
    from norlm.errors import StageError

    path = Path(args.file)
    if not path.is_file():
        raise StageError(f"{path}: no such file", exit_code=1)
    manifest_path = path.parent / "manifest.json"
    manifest = read_manifest(manifest_path) if manifest_path.exists() else None
    seq = args.max_seq_length or (manifest.max_seq_length if manifest else None)
    pred = args.max_predictions or (manifest.max_predictions_per_seq if manifest else None)
    vocab = args.vocab or (manifest.vocab.path if manifest else None)
    if not (seq and pred and vocab):
        raise StageError(f"{manifest_path} not found; give --max-seq-length, --max-predictions and --vocab")
    import tensorflow as tf

    from norlm.bert.train.input import parse_batch

    token = _decoder(vocab)
    count = 0
    lengths, preds, labels = [], [], []
    try:
        for serialized in tf.data.TFRecordDataset(str(path)).batch(1024):
            batch = {k: v.numpy() for k, v in parse_batch(serialized, seq, pred).items()}
            for i in range(len(batch["input_ids"])):
                if count < args.show:
                    print(f"[{count}] " + describe({k: v[i] for k, v in batch.items()}, token))
                count += 1
            lengths.append(batch["input_mask"].sum(1))
            preds.append(batch["masked_lm_weights"].sum(1))
            labels.append(batch["next_sentence_labels"][:, 0])
    except tf.errors.OpError as exc:
        raise StageError(f"{path}: unreadable after {count} instances: {exc.message}", exit_code=1) from None
    if not count:
        print(f"{path}: 0 instances")
        return 0
    lengths, preds, labels = (np.concatenate(x) for x in (lengths, preds, labels))
    print(f"{path}: {count} instances, mean length {lengths.mean():.1f} of {seq}, "
          f"mean predictions {preds.mean():.2f} of {pred}, random next {labels.mean():.3f}")
    return 0
