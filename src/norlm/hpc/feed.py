"""Can the input pipeline feed the GPU?  The per-core rates bench/input_pipeline.py measured
(feed_rates.json beside this module) against each GPU's demand in the plan.

BERT: the tf.data pipeline (read, parse, batch, shard per worker) runs on every core the job
gives a GPU rank, so capacity = cores per GPU x sequences/s per core.  ELMo: the batcher is Python
in the training loop's thread, so capacity = one core's tokens/s, whatever the job gives.
Demand = the plan's per-GPU TFLOP/s / FLOPs per sequence (or token).  Below 2x: a warning.
Standard library only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FEED_FILE = Path(__file__).with_name("feed_rates.json")
MARGIN = 2.0


@dataclass(frozen=True)
class Feed:
    stage: str
    unit: str  # "seq/s" or "tokens/s"
    demand: float  # per GPU
    cores: int  # cores feeding one GPU
    per_core: float
    basis: str
    serial: bool = False  # produced between steps (the ELMo batcher), not beside them

    @property
    def capacity(self) -> float:
        return self.cores * self.per_core

    @property
    def ratio(self) -> float:
        return self.capacity / self.demand if self.demand else float("inf")

    def line(self) -> str:
        verdict = "ok" if self.ratio >= MARGIN else f"WARNING: below {MARGIN:g}x"
        serial = f"; it runs between steps, adding ~{100 / self.ratio:.0f}% to each" if self.serial else ""
        return (f"  {self.stage}: needs {self.demand:,.0f} {self.unit} per GPU; {self.cores} core(s) x "
                f"{self.per_core:,.0f} = {self.capacity:,.0f} ({self.ratio:,.1f}x) {verdict}{serial}")


def load_feed(path: Path = FEED_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def bert_feed(rates: dict, stage: str, seq_len: int, cores: int, demand: float) -> Feed | None:
    """The BERT pipeline at the measured shape nearest `seq_len` (None when never measured)."""
    shapes = rates.get("bert", {})
    if not shapes:
        return None
    key = min(shapes, key=lambda k: abs(int(k) - seq_len))
    return Feed(stage, "seq/s", demand, cores, float(shapes[key]["seq_per_core_s"]),
                f"{rates.get('basis', '')}, seq {key}")


def elmo_feed(rates: dict, stage: str, world: int, demand: float) -> Feed | None:
    """The ELMo batcher at the measured worker count nearest `world`."""
    worlds = rates.get("elmo", {})
    if not worlds:
        return None
    key = min(worlds, key=lambda k: abs(int(k) - world))
    return Feed(stage, "tokens/s", demand, 1, float(worlds[key]["tokens_per_core_s"]),
                f"{rates.get('basis', '')}, {key} worker(s)", serial=True)
