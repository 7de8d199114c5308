"""BERT pretraining cost: FLOPs per sequence from the model's sizes, and the per-GPU throughput
figures `norlm plan` divides by, each labelled with where it comes from.

FLOPs count the dense matrix products only (2 per multiply-add), three times the forward pass
for forward + backward: per token and layer the Q/K/V/output projections (4 H^2), the feed-forward
block (2 H I) and the attention scores and mix (2 T H); the MLM head (transform H^2 + output H V)
on the masked positions only.  Embedding look-ups, norms and the NSP head are negligible.
"""
from __future__ import annotations

from dataclasses import dataclass


def flops_per_sequence(layers: int, hidden: int, intermediate: int, vocab: int, seq_len: int,
                       predictions: int) -> float:
    """Training FLOPs (forward + backward) of one sequence."""
    per_token = layers * (4 * hidden * hidden + 2 * hidden * intermediate + 2 * seq_len * hidden)
    head = predictions * (hidden * hidden + hidden * vocab)
    return 3 * 2 * float(seq_len * per_token + head)


# the model behind NVIDIA's published TF1 BERT tables: BERT-large, 20 / 80 predictions at 128 / 512
BERT_LARGE = {"layers": 24, "hidden": 1024, "intermediate": 4096, "vocab": 30522}
NORBERT1 = {"layers": 12, "hidden": 768, "intermediate": 3072, "vocab": 32922}
_PRED = {128: 20, 512: 80}


@dataclass(frozen=True)
class Throughput:
    """Effective TFLOP/s per GPU at sequence length 128 and 512 (the same when only a peak x MFU is known)."""

    gpu: str
    precision: str  # "fp32" (TF32 where the GPU has it, TensorFlow's default) or "mixed"
    tflops_128: float
    tflops_512: float
    label: str  # "measured elsewhere" or "assumed"
    source: str

    def at(self, seq_len: int) -> float:
        return self.tflops_128 if seq_len <= 256 else self.tflops_512


def _measured(gpu: str, precision: str, model: dict, seq_s_128: float, seq_s_512: float, source: str,
              pred: dict[int, int] = _PRED) -> Throughput:
    """A published sequences-per-second figure, per GPU, turned into effective TFLOP/s."""
    t128 = seq_s_128 * flops_per_sequence(**model, seq_len=128, predictions=pred[128]) / 1e12
    t512 = seq_s_512 * flops_per_sequence(**model, seq_len=512, predictions=pred[512]) / 1e12
    return Throughput(gpu, precision, round(t128, 3), round(t512, 3), "measured elsewhere", source)


def _assumed(gpu: str, precision: str, peak: float, mfu: float, source: str) -> Throughput:
    value = round(peak * mfu, 3)
    return Throughput(gpu, precision, value, value, "assumed", f"{peak:g} TFLOP/s peak x {mfu:.0%} MFU ({source})")


THROUGHPUTS: dict[tuple[str, str], Throughput] = {(t.gpu, t.precision): t for t in [
    # NorBERT-1 itself: 640 / 103 seq/s on 16 P100 (FP32, XLA), read from its training logs
    _measured("P100", "fp32", NORBERT1, 40.0, 6.5, "NorBERT-1 logs on Saga: 40 / 6.5 seq/s per P100 "
              "(bert-recipe §3.4)", pred={128: 20, 512: 77}),
    # NVIDIA TF1 BERT README (container 20.06), BERT-large, 8 GPUs, LAMB + XLA
    _measured("V100", "fp32", BERT_LARGE, 357.00 / 8, 81.42 / 8, "NVIDIA TF1 BERT README, DGX-1 V100 32 GB, "
              "8 GPUs FP32: 357.00 / 81.42 seq/s"),
    _measured("V100", "mixed", BERT_LARGE, 1443.05 / 8, 255.64 / 8, "NVIDIA TF1 BERT README, DGX-1 V100 32 GB, "
              "8 GPUs AMP: 1443.05 / 255.64 seq/s"),
    _measured("A100", "fp32", BERT_LARGE, 1889.71 / 8, 316.51 / 8, "NVIDIA TF1 BERT README, DGX A100 40 GB, "
              "8 GPUs TF32: 1889.71 / 316.51 seq/s"),
    _measured("A100", "mixed", BERT_LARGE, 2871.89 / 8, 572.112 / 8, "NVIDIA TF1 BERT README, DGX A100 40 GB, "
              "8 GPUs AMP: 2871.89 / 572.11 seq/s"),
    # no published TensorFlow BERT figure: NVIDIA's dense peak x the MFU the A100 TF32 row reaches (~35 %)
    _assumed("GH200", "fp32", 494.0, 0.35, "H100-class TF32 dense peak"),
    _assumed("GH200", "mixed", 989.0, 0.35, "H100-class BF16 dense peak"),
    # one GCD is half an MI250X: 47.9 TFLOP/s FP32 matrix, 191.5 BF16; ROCm TF reaches less, 30 % assumed
    _assumed("MI250X-GCD", "fp32", 47.9, 0.30, "AMD MI250X FP32 matrix peak / 2 GCDs"),
    _assumed("MI250X-GCD", "mixed", 191.5, 0.30, "AMD MI250X BF16 peak / 2 GCDs"),
]}


def throughput_for(gpu: str, precision: str) -> Throughput:
    key = (gpu, "fp32" if precision == "fp32" else "mixed")
    if key not in THROUGHPUTS:
        known = ", ".join(sorted({g for g, _ in THROUGHPUTS}))
        raise KeyError(f"no throughput figure for GPU model '{gpu}' (known: {known})")
    return THROUGHPUTS[key]
