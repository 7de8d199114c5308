"""Benchmark: one BERT fine-tuning step (token classification, AdamW) in our pure-TF harness against
Hugging Face `BertForTokenClassification` + `torch.optim.AdamW` on the same config and batches.

Both run in this process, interleaved, on the same random batches; the ratio is ours / baseline in
sequences per CPU-second (wall-clock ratio also printed, since other jobs may share the machine).

    .venv/bin/python bench/evaluate_finetune.py [--layers 2 --hidden 128 --steps 30 --batch 8 --length 48]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--labels", type=int, default=17)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import tensorflow as tf
    import torch
    import transformers

    from norlm.bert.model import BertConfig, BertPretrainingModel
    from norlm.evaluate.bert_finetune import BertClassifier
    from norlm.evaluate.bert_models import BertBundle
    from norlm.evaluate.optim import AdamW

    torch.set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(0)
    b, t = args.batch, args.length
    batches = [{"input_ids": rng.integers(5, args.vocab, size=(b, t)).astype(np.int32),
                "input_mask": np.ones((b, t), np.int32),
                "first": np.tile(np.arange(t, dtype=np.int32), (b, 1)),
                "word_mask": np.ones((b, t), np.float32),
                "labels": rng.integers(0, args.labels, size=(b, t)).astype(np.int32)} for _ in range(args.steps)]

    # ours
    cfg = BertConfig(vocab_size=args.vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
                     num_attention_heads=args.heads, intermediate_size=4 * args.hidden)
    bundle = BertBundle(BertPretrainingModel(cfg, seed=0), None, cfg, "bench", False, 0)
    clf = BertClassifier(bundle, args.labels, True, 0.1, seed=0)
    opt = AdamW(clf.weights, 1e-3, 10 ** 6, weight_decay=0.01, names=clf.names)

    @tf.function(reduce_retracing=True)
    def tf_step(batch, seed):
        with tf.GradientTape() as tape:
            logits = clf.logits(batch, training=True, seed=seed)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(batch["labels"], logits))
        opt.apply(tape.gradient(loss, clf.weights))
        return loss

    # baseline
    hf_cfg = transformers.BertConfig(vocab_size=args.vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
                                     num_attention_heads=args.heads, intermediate_size=4 * args.hidden,
                                     num_labels=args.labels)
    torch.manual_seed(0)
    hf = transformers.BertForTokenClassification(hf_cfg).train()
    hf_opt = torch.optim.AdamW(hf.parameters(), lr=1e-3, weight_decay=0.01)
    torch_batches = [{k: torch.from_numpy(v.astype(np.int64)) for k, v in bt.items()
                      if k in ("input_ids", "input_mask", "labels")} for bt in batches]

    def run_tf():
        for i, bt in enumerate(batches):
            tf_step(bt, tf.constant([0, i], tf.int64)).numpy()

    def run_torch():
        for bt in torch_batches:
            out = hf(input_ids=bt["input_ids"], attention_mask=bt["input_mask"], labels=bt["labels"])
            hf_opt.zero_grad()
            out.loss.backward()
            hf_opt.step()

    run_tf()  # trace + warm-up
    run_torch()
    results = {"ours (pure TF)": [], "HF torch (baseline)": []}
    for _ in range(args.rounds):
        for name, fn in (("ours (pure TF)", run_tf), ("HF torch (baseline)", run_torch)):
            c0, w0 = time.process_time(), time.perf_counter()
            fn()
            results[name].append((time.process_time() - c0, time.perf_counter() - w0))
    seqs = args.steps * b
    best = {k: (min(c for c, _ in v), min(w for _, w in v)) for k, v in results.items()}
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"BERT {args.layers}x{args.hidden}, batch {b}x{t}, {args.steps} steps, best of {args.rounds}")
    print("| implementation | seq/CPU-s | seq/s wall | ratio (CPU) | ratio (wall) |")
    print("|---|---|---|---|---|")
    base = best["HF torch (baseline)"]
    for name, (cpu, wall) in best.items():
        print(f"| {name} | {seqs / cpu:.1f} | {seqs / wall:.1f} | {base[0] / cpu:.2f} | {base[1] / wall:.2f} |")


if __name__ == "__main__":
    main()
