"""Benchmark: BERT pretraining throughput (sequences/s) of our TF trainer vs HF transformers (PyTorch), CPU.

Both sides run one full training update per step (forward, backward, optimiser) on the same shapes,
batch and thread count, one after the other, each in its own subprocess: ours = `norlm.bert.train.trainer.Trainer`
(NVLAMB, MLM + NSP, deterministic ops as in training); baseline = `transformers.BertForPreTraining`
with `torch.optim.AdamW`.  `--precision fp32` (default) or `bf16`: mixed precision on both sides (ours:
`precision="bf16"`, bf16 matmuls with fp32 weights and optimiser; HF: `torch.autocast("cpu", torch.bfloat16)`),
which on a CPU with AMX runs the matmuls on its bf16 tile units.  Then a FLOP count per sequence turns the
BERT-base measurement into an *estimate* for a GPU (no GPU here), anchored on NVIDIA's published BERT-large numbers (bert-recipe §4).

    .venv/bin/python bench/bert_train.py [--threads 2] [--steps 3] [--quick] [--precision fp32|bf16]

Results are appended to bench/RESULTS.md as the `## bert-train` section.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

SEQ, PRED = 128, 20


def flops_per_sequence(cfg, seq: int = SEQ, pred: int = PRED) -> float:
    """Training FLOPs of one sequence: 3 x forward (forward + 2x backward), matmuls only."""
    H, I, L, V = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers, cfg.vocab_size
    per_token_layer = 2 * (4 * H * H + 2 * H * I)  # Q, K, V, output projections + FFN
    attention = 2 * 2 * seq * H  # scores and weighted sum, per token per layer
    encoder = seq * L * (per_token_layer + attention)
    heads = pred * 2 * (H * H + H * V) + 2 * H * H + 2 * 2 * H  # MLM transform + tied decoder, pooler, NSP
    return 3.0 * (encoder + heads)


def make_batch(batch: int, vocab: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocab, size=(batch, SEQ)).astype(np.int32)
    positions = np.sort(np.stack([rng.choice(np.arange(1, SEQ - 1), PRED, replace=False) for _ in range(batch)]), 1)
    return {
        "input_ids": ids, "input_mask": np.ones((batch, SEQ), np.int32),
        "segment_ids": (np.arange(SEQ)[None, :] >= SEQ // 2).astype(np.int32).repeat(batch, 0),
        "masked_lm_positions": positions.astype(np.int32),
        "masked_lm_ids": np.take_along_axis(ids, positions, 1).astype(np.int32),
        "masked_lm_weights": np.ones((batch, PRED), np.float32),
        "next_sentence_labels": rng.integers(0, 2, size=(batch, 1)).astype(np.int32),
    }


def bench_ours(cfg, batch: int, steps: int, warmup: int, precision: str = "fp32") -> float:
    import tensorflow as tf

    from norlm.bert.train.settings import BertTrainConfig, PhaseTrain
    from norlm.bert.train.trainer import Trainer

    data = {k: tf.constant(v) for k, v in make_batch(batch, cfg.vocab_size).items()}
    trainer = Trainer(cfg, BertTrainConfig(), PhaseTrain(batch, 1, 10000, 10, 1e-4), seed=1, precision=precision)

    def forever():
        while True:
            yield data

    it = forever()
    for _ in range(warmup):
        trainer.step(it, 1)
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.step(it, 1)
    return batch * steps / (time.perf_counter() - t0)


def bench_hf(cfg, batch: int, steps: int, warmup: int, masked_only: bool = False, precision: str = "fp32") -> float:
    """HF BertForPreTraining; `masked_only` runs its heads on the gathered masked positions (as ours / NVIDIA)."""
    import torch
    from transformers import BertConfig as HFConfig, BertForPreTraining

    torch.manual_seed(0)
    model = BertForPreTraining(HFConfig(**dict(cfg.to_json_dict(), hidden_act="gelu_new"), layer_norm_eps=1e-12))
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, eps=1e-6, weight_decay=0.01)
    b = make_batch(batch, cfg.vocab_size)
    labels = torch.full((batch, SEQ), -100, dtype=torch.long)
    pos = torch.tensor(b["masked_lm_positions"], dtype=torch.long)
    labels.scatter_(1, pos, torch.tensor(b["masked_lm_ids"], dtype=torch.long))
    inputs = dict(input_ids=torch.tensor(b["input_ids"], dtype=torch.long),
                  attention_mask=torch.tensor(b["input_mask"], dtype=torch.long),
                  token_type_ids=torch.tensor(b["segment_ids"], dtype=torch.long), labels=labels,
                  next_sentence_label=torch.tensor(b["next_sentence_labels"][:, 0], dtype=torch.long))

    rows = torch.arange(batch)[:, None]
    mlm_ids = torch.tensor(b["masked_lm_ids"], dtype=torch.long).reshape(-1)
    xent = torch.nn.CrossEntropyLoss()

    def masked_loss():
        out = model.bert(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                         token_type_ids=inputs["token_type_ids"])
        scores, nsp = model.cls(out[0][rows, pos], out[1])  # MLM head on the 20 masked positions only
        return xent(scores.reshape(-1, scores.shape[-1]), mlm_ids) + xent(nsp, inputs["next_sentence_label"])

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = masked_loss() if masked_only else model(**inputs).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - t0)


def shape(name: str):
    from norlm.bert.model import BertConfig

    if name == "tiny":
        return ("tiny (demo.json, 2x128, V=8000)",
                BertConfig.from_json(REPO / "configs/bert/demo.json").replace(vocab_size=8000), 32)
    return ("BERT-base (norbert1.json, 12x768, V=32922)", BertConfig.from_json(REPO / "configs/bert/norbert1.json"), 8)


def worker(side: str, name: str, threads: int, steps: int, warmup: int, precision: str = "fp32") -> None:
    """One measurement in a fresh process, so TF and torch thread pools never compete."""
    if side == "ours":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        tf.config.experimental.enable_op_determinism()  # as `norlm bert-train` runs by default
        _, cfg, batch = shape(name)
        print(json.dumps({"seq_s": bench_ours(cfg, batch, steps, warmup, precision), "version": tf.__version__}))
    else:
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
        _, cfg, batch = shape(name)
        print(json.dumps({"seq_s": bench_hf(cfg, batch, steps, warmup, masked_only=side == "hf-masked",
                                            precision=precision),
                          "version": torch.__version__}))


def measure(side: str, name: str, threads: int, steps: int, warmup: int, precision: str = "fp32") -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, __file__, "--worker", side, "--shape", name, "--threads", str(threads),
                           "--steps", str(steps), "--warmup", str(warmup), "--precision", precision],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{side} {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--steps", type=int, default=3, help="timed updates per model (BERT-base; tiny uses 20)")
    parser.add_argument("--warmup", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="tiny model only")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of ours / HF / HF-masked (best kept)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="fp32 (default) or bf16 mixed precision on both sides")
    parser.add_argument("--worker", choices=("ours", "hf", "hf-masked"), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--shape", choices=("tiny", "base"), default="tiny", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.shape, args.threads, args.steps, args.warmup or 1, args.precision)
        return 0
    from norlm.bert.model import BertConfig

    sys.path.insert(0, str(REPO / "bench"))
    import cpu_peak

    load_start = open("/proc/loadavg").read().split()[0]
    peak = cpu_peak.measure(args.threads)["peak_gflops"]
    print(f"peak fp32 matmul at {args.threads} thread(s): {peak:.1f} GFLOP/s (bench/cpu_peak.py)", flush=True)
    rows = []
    versions = {}
    for key in (("tiny",) if args.quick else ("tiny", "base")):
        name, cfg, batch = shape(key)
        steps, warmup = (20, 3) if key == "tiny" else (args.steps, 1)
        best = {"ours": 0.0, "hf": 0.0, "hf-masked": 0.0}
        for _ in range(args.rounds):  # interleaved: the machine is shared
            for side in best:
                run = measure(side, key, args.threads, steps, warmup, args.precision)
                best[side] = max(best[side], run["seq_s"])
                versions["tf" if side == "ours" else "torch"] = run["version"]
        ours, hf, hfm = best["ours"], best["hf"], best["hf-masked"]
        gflop = flops_per_sequence(cfg) / 1e9
        rows.append((name, batch, ours, hf, ours / hf, gflop, ours * gflop, hfm))
        print(f"{name}: batch {batch}, seq {SEQ}: ours {ours:.2f} seq/s, HF PyTorch {hf:.2f} seq/s (ratio {ours / hf:.2f}x), "
              f"HF heads on masked positions only {hfm:.2f} seq/s (ratio {ours / hfm:.2f}x); {gflop:.1f} GFLOP/seq -> "
              f"{ours * gflop:.1f} GFLOP/s = {100 * ours * gflop / peak:.0f}% of the fp32 peak ({args.precision})", flush=True)

    # GPU estimate from FLOPs (no GPU on this machine): NVIDIA's TF1 BERT-large, A100, AMP, seq 128,
    # 8 GPUs 2871.89 seq/s (bert-recipe §4.1) -> achieved TFLOP/s per GPU under our FLOP count
    large = BertConfig(vocab_size=30522, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                       intermediate_size=4096)
    base = BertConfig.from_json(REPO / "configs/bert/norbert1.json")
    per_gpu_large = 2871.89 / 8
    achieved = per_gpu_large * flops_per_sequence(large) / 1e12
    mfu_a100 = achieved / 312.0  # A100 dense bf16/fp16 peak 312 TFLOP/s
    base_gflop = flops_per_sequence(base) / 1e9
    est = {gpu: (peak * mfu, peak * mfu * 1e12 / (base_gflop * 1e9))
           for gpu, peak, mfu in (("A100 (MFU as NVIDIA's BERT-large)", 312.0, mfu_a100),
                                  ("A100 at the 40 % MFU target", 312.0, 0.40),
                                  ("H100 SXM at the 40 % MFU target", 989.0, 0.40))}
    print(f"ESTIMATE (not measured): BERT-large anchor {per_gpu_large:.0f} seq/s/A100 = {achieved:.1f} TFLOP/s "
          f"= {100 * mfu_a100:.0f} % MFU; BERT-base phase 1 = {base_gflop:.1f} GFLOP/seq")
    for gpu, peak_tf in (("GH200 (H100 part, dense bf16 989 TFLOP/s)", 989.0), ("MI250X (one GCD, dense bf16 191.5 TFLOP/s)", 191.5)):
        est[f"{gpu} at NVIDIA's BERT-large MFU"] = (peak_tf * mfu_a100, peak_tf * mfu_a100 * 1e3 / base_gflop)
    for gpu, (tflops, seqs) in est.items():
        print(f"  {gpu}: {tflops:.0f} TFLOP/s -> ~{seqs:,.0f} seq/s BERT-base phase 1 bf16+XLA (estimate)")

    if args.no_write:
        return 0
    cpu = platform.processor() or platform.machine()
    lines = ["", "## bert-train", "",
             f"`{Path(sys.executable).name} bench/bert_train.py --threads {args.threads} --steps {args.steps} "
             f"--rounds {args.rounds}{' --quick' if args.quick else ''} --precision {args.precision}` on {os.cpu_count()} CPU cores ({cpu}, {platform.platform()}), "
             f"TF {versions['tf']}, torch {versions['torch']}; {args.threads} threads each, each side in its own "
             f"process; other jobs were "
             f"running on the machine (load average {load_start} at the start, {os.getloadavg()[0]:.1f} at the end), "
             f"so absolute numbers are noisy; best of {args.rounds} interleaved round(s). Peak = fp32 matmul at "
             f"{args.threads} thread(s) measured by bench/cpu_peak.py in the same run: {peak:.1f} GFLOP/s.",
             f"One training update per step at seq 128 / 20 masked positions, {args.precision}"
             + (" (mixed precision on both sides: bf16 matmuls, fp32 weights and optimiser; HF under torch.autocast)"
                if args.precision == "bf16" else "") + ". Ours: NVLAMB, MLM head on the "
             "masked positions only (as NVIDIA). HF: `BertForPreTraining` + AdamW + clip (its MLM head scores "
             "all 128 positions). HF masked = the same HF model with its heads run on the gathered masked positions only, "
             "so ours / HF masked is the implementation share of the gain and HF masked / HF the algorithmic share.", "",
             "| model | batch | ours seq/s | HF seq/s | ratio | HF masked seq/s | ratio vs HF masked | GFLOP/seq "
             "| ours GFLOP/s | % of the fp32 peak |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, batch, ours, hf, ratio, gflop, rate, hfm in rows:
        lines.append(f"| {name} | {batch} | {ours:.2f} | {hf:.2f} | **{ratio:.2f}x** | {hfm:.2f} | {ours / hfm:.2f}x "
                     f"| {gflop:.1f} | {rate:.1f} | {100 * rate / peak:.0f}% |")
    lines += ["", f"GPU ESTIMATE (no GPU here; FLOP count, not a measurement): NVIDIA's TF1 BERT-large on 8 A100 "
              f"(AMP, seq 128) = {per_gpu_large:.0f} seq/s per GPU = {achieved:.1f} TFLOP/s = {100 * mfu_a100:.0f} % "
              f"of 312 TFLOP/s. BERT-base phase 1 costs {base_gflop:.1f} GFLOP per sequence, so:"]
    for gpu, (tflops, seqs) in est.items():
        lines.append(f"- {gpu}: ~{seqs:,.0f} seq/s ({tflops:.0f} TFLOP/s)")
    lines.append("")
    with open(REPO / "bench/RESULTS.md", "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
