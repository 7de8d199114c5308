"""Benchmark: graph-parser training and prediction speed (sentences/s) on CPU, demo and paper sizes.

Real NoReC_fine train sentences (head_final-inside_label graphs), batches as in training (shuffled,
batch 50 for the paper size, the demo config's batch for demo), with or without 768-dim LM vectors
(random, as a stand-in for BERT's).  The baseline is the same parser with a tf.scan LSTM loop
instead of the fused BlockLSTM kernel; the ratio is ours / baseline.  The first (tracing) step is
timed separately and left out of the rates.

    .venv/bin/python bench/graph_parser.py [--sentences 200 --steps 5 --rounds 1 --sizes demo,paper --lm 0,768]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def _examples(n: int, lm_dim: int):
    from norlm.evaluate.graph.data import fine_path, read_fine
    from norlm.evaluate.graph.encode import sentiment_graph
    from norlm.evaluate.graph.features import GraphExample

    sents, _ = read_fine(fine_path("data", "train"))
    rng = np.random.default_rng(0)
    out = []
    for s in sents[:n]:
        ex = GraphExample(s.sent_id, s.text, s.tokens, [t.lower() for t in s.tokens], ["_"] * len(s.tokens),
                          sentiment_graph(s, "head_final-inside_label"), source=s)
        if lm_dim:
            ex.lm = rng.normal(size=(len(ex), lm_dim)).astype(np.float32)
        out.append(ex)
    return out


def _measure(protocol, examples, vocabs, steps: int, fused: bool) -> dict:
    from norlm.evaluate.graph.features import collate
    from norlm.evaluate.graph.train import lm_dim_of, make_model, predictor

    lm_dim = lm_dim_of(examples)
    _model, train_step, predict_ids = make_model(vocabs, lm_dim, protocol, seed=1, fused=fused)
    rng = np.random.default_rng(1)
    b = protocol.batch_size
    batches = [collate([examples[i] for i in rng.choice(len(examples), b, replace=False)], lm_dim)
               for _ in range(steps + 1)]
    t0 = time.perf_counter()
    train_step(batches[0])
    trace = time.perf_counter() - t0
    t0 = time.perf_counter()
    for batch in batches[1:]:
        train_step(batch)
    train = steps * b / (time.perf_counter() - t0)
    predict = predictor(predict_ids, lm_dim, 2 * b)
    predict(examples[:2 * b])  # trace
    t0 = time.perf_counter()
    predict(examples)
    pred = len(examples) / (time.perf_counter() - t0)
    return {"trace_s": trace, "train": train, "predict": pred}


def _best(results: list[dict]) -> dict:
    return {"trace_s": min(r["trace_s"] for r in results), "train": max(r["train"] for r in results),
            "predict": max(r["predict"] for r in results)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=200)
    ap.add_argument("--steps", type=int, default=5, help="timed training steps per case")
    ap.add_argument("--sizes", default="demo,paper")
    ap.add_argument("--lm", default="0,768", help="LM vector dims to try (0 = no LM)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the tf.scan baseline")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved (baseline, ours) rounds after the first")
    args = ap.parse_args()

    from norlm.config import load_config
    from norlm.evaluate.graph.features import build_vocabs, featurise
    from norlm.evaluate.graph.settings import GraphProtocol

    sizes = {"paper": GraphProtocol(), "demo": load_config("configs/demo.toml").evaluate.graph}
    load0 = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load0:.2f} at start")
    print("| size | LM dim | batch | layers x hidden | trace s | train sent/s | predict sent/s | baseline train "
          "sent/s | baseline predict sent/s | train ratio | predict ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        p = sizes[size]
        for lm_dim in (int(x) for x in args.lm.split(",")):
            exs = _examples(args.sentences, lm_dim)
            vocabs = build_vocabs(exs, [], 0)
            for ex in exs:
                ex.inputs = featurise(ex, vocabs)
            p_run = dataclasses.replace(p, batch_size=min(p.batch_size, len(exs)))
            ours, base = _best([_measure(p_run, exs, vocabs, args.steps, fused=True)]), None
            for _ in range(args.rounds):  # interleaved rounds, best of each side: the machine is shared
                if not args.no_baseline:
                    base = _best([_measure(p_run, exs, vocabs, args.steps, fused=False)] + ([base] if base else []))
                ours = _best([_measure(p_run, exs, vocabs, args.steps, fused=True), ours])
            cells = [size, str(lm_dim), str(p_run.batch_size), f"{p.lstm_layers} x {p.lstm_hidden}",
                     f"{ours['trace_s']:.1f}", f"{ours['train']:.1f}", f"{ours['predict']:.0f}"]
            if base:
                cells += [f"{base['train']:.1f}", f"{base['predict']:.0f}", f"**{ours['train'] / base['train']:.2f}x**",
                          f"**{ours['predict'] / base['predict']:.2f}x**"]
            else:
                cells += ["–"] * 4
            print("| " + " | ".join(cells) + " |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end; {args.sentences} NoReC_fine train sentences "
          f"(mean {np.mean([len(e) for e in exs]):.1f} tokens); {args.steps} timed steps per case; best of "
          f"{args.rounds + 1} (ours) / {args.rounds} (baseline) interleaved measurements")


if __name__ == "__main__":
    main()
