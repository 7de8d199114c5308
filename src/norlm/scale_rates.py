"""Per-core rates of the CPU stages, measured by `bench/scale.py` and read by `norlm plan` and the
stages' disk pre-flight checks: one versioned JSON file beside this module, each figure with its basis.

Standard library only (job planning runs on a login node).  Rates are per CPU core (one worker):
`mb_per_cpu_s` is MB of input text per CPU second, `peak_rss_mb` the peak resident memory of one
worker, `out_bytes_per_in_byte` the bytes written per byte of input text (for bert-data at the
`dupe_factor` it was measured with; output grows linearly with the dupe factor).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RATES_FILE = Path(__file__).with_name("scale_rates.json")


@dataclass(frozen=True)
class StageRate:
    stage: str
    mb_per_cpu_s: float
    peak_rss_mb: float
    out_bytes_per_in_byte: float
    basis: str  # "measured here at demo scale", "measured here at 1/10 of the paper", ...
    dupe_factor: int = 0  # bert-data only: the dupe factor the output rate was measured at
    extra: dict | None = None  # any further figures the bench wrote (instances/s, slopes, ...)

    def output_bytes(self, input_bytes: float, dupe_factor: int = 0) -> float:
        """Bytes this stage writes for `input_bytes` of text (scaled to `dupe_factor` for bert-data)."""
        out = input_bytes * self.out_bytes_per_in_byte
        if self.dupe_factor and dupe_factor:
            out *= dupe_factor / self.dupe_factor
        return out

    def cpu_seconds(self, input_bytes: float) -> float:
        return input_bytes / 1e6 / self.mb_per_cpu_s


_KNOWN = {"stage", "mb_per_cpu_s", "peak_rss_mb", "out_bytes_per_in_byte", "basis", "dupe_factor"}


def load_rates(path: Path | str = RATES_FILE) -> dict[str, StageRate]:
    """Every stage's rate from the rates file (a missing stage is simply absent)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    basis = doc.get("basis", "unknown basis")
    out = {}
    for name, row in doc.get("stages", {}).items():
        out[name] = StageRate(stage=name, mb_per_cpu_s=float(row["mb_per_cpu_s"]),
                              peak_rss_mb=float(row.get("peak_rss_mb", 0.0)),
                              out_bytes_per_in_byte=float(row.get("out_bytes_per_in_byte", 0.0)),
                              basis=row.get("basis", basis), dupe_factor=int(row.get("dupe_factor", 0)),
                              extra={k: v for k, v in row.items() if k not in _KNOWN} or None)
    return out


def rate_of(stage: str, path: Path | str = RATES_FILE) -> StageRate | None:
    return load_rates(path).get(stage)


def measured_input_mb(path: Path | str = RATES_FILE) -> float:
    """The input size (MB of text) the rates were measured at; 0 when the file does not say."""
    return float(json.loads(Path(path).read_text(encoding="utf-8")).get("input_mb", 0) or 0)
