"""ELMo training cost: FLOPs per token from the model's sizes, the per-GPU throughput `norlm plan`
divides by, and the check that one published run predicts another.

Standard library only (plans are made on login nodes); bench/elmo_train.py uses the same count.
A token is one input position in one direction: a step of B rows x T positions per GPU is 2 B T
tokens.  FLOPs count the multiply-adds of the char CNN, the highway layers, the projection, the
LSTMP layers and the sampled softmax (true word + negatives), x 2 x 3 for forward + backward.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# FP32 (non-tensor) peaks in TFLOP/s, the basis for carrying a measured figure to another GPU
FP32_PEAK = {"P100": 9.3, "V100": 14.0, "A100": 19.5, "GH200": 67.0, "MI250X-GCD": 23.9}
FP32_PEAK_SOURCE = ("vendor FP32 vector peaks: P100 PCIe 9.3, V100 SXM2 14, A100 19.5, GH200 (H100) 67, "
                    "MI250X 47.9 / 2 GCDs")


def flops_per_token(filters, char_dim: int, max_chars: int, n_highway: int, projection_dim: int,
                    lstm_dim: int, n_layers: int, n_negative: int) -> float:
    """Training FLOPs of one token (every token through the char CNN, as bilm-tf computes it)."""
    n_filters = sum(n for _, n in filters)
    macs = sum((max_chars - w + 1) * w * char_dim * n for w, n in filters)
    macs += n_highway * 2 * n_filters * n_filters + (n_filters * projection_dim if n_filters != projection_dim else 0)
    macs += n_layers * (2 * projection_dim * 4 * lstm_dim + lstm_dim * projection_dim)
    macs += (n_negative + 1) * projection_dim
    return 6.0 * macs


def options_flops_per_token(options: dict, n_sampled: int) -> float:
    """The same count from a bilm-tf options.json dict (what the bench builds)."""
    cnn, lstm = options["char_cnn"], options["lstm"]
    return flops_per_token(cnn["filters"], cnn["embedding"]["dim"], cnn["max_characters_per_token"],
                           cnn.get("n_highway", 0), lstm["projection_dim"], lstm["dim"], lstm["n_layers"], n_sampled)


def config_flops_per_token(ec: Any) -> float:
    """The count for an [elmo] config section."""
    return flops_per_token(ec.filters, ec.char_dim, ec.max_characters_per_token, ec.n_highway, ec.projection_dim,
                           ec.lstm_dim, ec.n_layers, ec.n_negative_samples)


def parameters(ec: Any) -> int:
    """Weights of the biLM (both directions' LSTMs, the shared CNN and softmax), for checkpoint sizes."""
    n_filters = sum(n for _, n in ec.filters)
    cnn = 262 * ec.char_dim + sum(w * ec.char_dim * n + n for w, n in ec.filters)
    cnn += ec.n_highway * 2 * (n_filters * n_filters + n_filters) + n_filters * ec.projection_dim
    p, h = ec.projection_dim, ec.lstm_dim
    lstm = 2 * ec.n_layers * ((2 * p) * 4 * h + 4 * h + h * p)
    return cnn + lstm + (ec.vocab_size + 3) * (p + 1)


def plan_steps(ec: Any, n_train_tokens: int, world: int) -> int:
    """Total updates as elmo-train counts them (norlm.elmo.train_plan.plan_steps, bilm-tf's rule)."""
    per_epoch = max(1, int(n_train_tokens / (ec.batch_size * ec.unroll_steps * world)))
    total = ec.n_epochs * per_epoch
    return min(total, ec.max_steps) if ec.max_steps > 0 else total


@dataclass(frozen=True)
class ElmoSpec:
    """The sizes of a published ELMo model (SET/bilm-tf options), enough to count its FLOPs."""

    filters: tuple = ((1, 32), (2, 32), (3, 64), (4, 128), (5, 256), (6, 512), (7, 1024))
    char_dim: int = 16
    max_characters_per_token: int = 50
    n_highway: int = 2
    projection_dim: int = 512
    lstm_dim: int = 2048
    n_layers: int = 2
    n_negative_samples: int = 4096


# NorELMo30 (Kutuzov et al. 2021): the NorBERT corpus, 3 epochs, "about 100 hours on four P100"
PAPER_WORDS = 1_907_072_909
PAPER = {"hours": 100.0, "gpus": 4, "gpu": "P100", "epochs": 3, "words": PAPER_WORDS}
# ltgoslo/simple_elmo_training #6: 2 x A100-40GB, TF 1.15.2, batch 384 per GPU, LSTM 2048, 10k vocabulary,
# 256,372 s for 191,200 batches = 134.085 s per 100 batches
SET6 = {"gpus": 2, "gpu": "A100", "batch": 384, "unroll": 20, "seconds_per_100": 134.085}


def paper_tflops() -> float:
    """Effective TFLOP/s per P100 of the NorELMo30 run: its FLOPs / (100 h x 4 GPUs)."""
    work = PAPER["epochs"] * PAPER["words"] * 2 * config_flops_per_token(ElmoSpec())
    return work / (PAPER["hours"] * 3600 * PAPER["gpus"]) / 1e12


def set6_tflops() -> float:
    """Effective TFLOP/s per A100 of simple_elmo_training #6."""
    tokens_per_gpu = 100 * SET6["batch"] * SET6["unroll"] * 2
    return tokens_per_gpu * config_flops_per_token(ElmoSpec()) / SET6["seconds_per_100"] / 1e12


@dataclass(frozen=True)
class CrossCheck:
    predicted_s: float  # seconds per 100 batches of SET #6, predicted from the paper's P100 run
    measured_s: float

    @property
    def error(self) -> float:
        return self.predicted_s / self.measured_s - 1


def cross_anchor() -> CrossCheck:
    """Predict SET #6 from the NorELMo30 paper run, carried from P100 to A100 by the FP32 peak ratio."""
    a100 = paper_tflops() * FP32_PEAK["A100"] / FP32_PEAK["P100"]
    tokens_per_gpu = 100 * SET6["batch"] * SET6["unroll"] * 2
    predicted = tokens_per_gpu * config_flops_per_token(ElmoSpec()) / (a100 * 1e12)
    return CrossCheck(predicted, SET6["seconds_per_100"])


@dataclass(frozen=True)
class ElmoThroughput:
    gpu: str
    tflops: float
    label: str  # "measured elsewhere" or "assumed"
    source: str


def elmo_throughput_for(gpu: str) -> ElmoThroughput:
    """The labelled per-GPU figure: P100 from the paper, A100 from SET #6, the rest from A100 x FP32 peak ratio."""
    if gpu == "P100":
        return ElmoThroughput(gpu, round(paper_tflops(), 3), "measured elsewhere",
                              "NorELMo30 paper run: 3 epochs of 1.907 B words in ~100 h on 4 P100, our FLOP count")
    a100 = set6_tflops()
    if gpu == "A100":
        return ElmoThroughput(gpu, round(a100, 3), "measured elsewhere",
                              "simple_elmo_training #6: 134.085 s per 100 batches of 384 x 20 on 2 A100 (TF 1.15)")
    if gpu not in FP32_PEAK:
        raise KeyError(f"no ELMo throughput figure for GPU model '{gpu}' (known: {', '.join(sorted(FP32_PEAK))})")
    ratio = FP32_PEAK[gpu] / FP32_PEAK["A100"]
    return ElmoThroughput(gpu, round(a100 * ratio, 3), "assumed",
                          f"A100 figure of simple_elmo_training #6 x FP32 peak ratio {ratio:.2f} ({FP32_PEAK_SOURCE})")


def elmo_train_hours(ec: Any, n_train_tokens: int, gpus: int, tflops: float) -> tuple[float, float, int]:
    """(FLOPs, hours, steps) of elmo-train on `gpus` GPUs at `tflops` each."""
    steps = plan_steps(ec, n_train_tokens, gpus)
    flops = steps * 2.0 * ec.batch_size * ec.unroll_steps * gpus * config_flops_per_token(ec)
    hours = flops / (gpus * tflops * 1e12) / 3600 if tflops > 0 else math.inf
    return flops, hours, steps
