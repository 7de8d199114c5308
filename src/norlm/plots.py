"""Loss curves in the style of the NorLM paper's Figure 1 (MLM and NSP loss over wall-clock time,
pauses visible) from any DLLogger file — ours or the published NVIDIA/NorBERT logs — and per-epoch
fine-tuning curves in the style of its Figure 2.

  norlm plot-log work/demo/bert/phase1/dllog.json work/demo/bert/phase2/dllog.json --out loss.png
  norlm plot-log bert_3_phase1_1.json.gz --x step
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any, Sequence

from norlm.dllogger import curve_points, read_dllog

LOSSES = ("mlm_loss", "nsp_loss")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("logs", nargs="+", help="DLLogger JSON files (.gz allowed), in chronological order")
    parser.add_argument("--x", choices=["time", "step"], default="time",
                        help="horizontal axis: wall-clock time (default; pauses show as gaps) or update step")
    parser.add_argument("--out", default=None, help="output image (default: <first log>.png)")
    parser.add_argument("--title", default=None, help="figure title")


def load_points(paths: Sequence[str | os.PathLike]) -> list[dict[str, Any]]:
    """Training LOG points of every file, each tagged with the file index; lines without losses dropped.

    One curve per file: a resumed run's repeated steps are replaced (dllogger.curve_points), and the
    first point after each restart carries `restart: True`."""
    points = []
    for index, path in enumerate(paths):
        curve, restarts = curve_points(read_dllog(path))
        for rec in curve:
            data = rec.get("data", {})
            if not all(isinstance(data.get(k), (int, float)) for k in LOSSES):
                continue
            points.append({"file": index, "step": rec["step"], "time": rec.get("time"),
                           "restart": any(rec is r for r in restarts), **{k: float(data[k]) for k in LOSSES}})
    return points


def _segments(xs: list, gap: float | dt.timedelta | None) -> list[tuple[int, int]]:
    """Index ranges [a, b) between gaps larger than `gap` (so pauses are not drawn as lines)."""
    if not xs:
        return []
    cuts = [0]
    for i in range(1, len(xs)):
        if gap is not None and xs[i] - xs[i - 1] > gap:
            cuts.append(i)
    cuts.append(len(xs))
    return list(zip(cuts[:-1], cuts[1:]))


def _pause_threshold(times: list[dt.datetime]) -> dt.timedelta | None:
    """A gap longer than 20 typical logging intervals (and at least 10 minutes) counts as a pause."""
    if len(times) < 3:
        return None
    diffs = sorted((b - a) for a, b in zip(times, times[1:]) if b >= a)
    typical = diffs[len(diffs) // 2]
    return max(typical * 20, dt.timedelta(minutes=10))


def _save(fig, out: str | os.PathLike) -> Path:
    """Write a figure atomically (temporary name, then rename) and release it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, out)
    return out


def plot_losses(paths: Sequence[str | os.PathLike], out: str | os.PathLike, x: str = "time",
                title: str | None = None, labels: Sequence[str] | None = None) -> Path:
    """Draw MLM (top) and NSP (bottom) loss; one colour per file; returns the image path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    points = load_points(paths)
    if not points:
        raise ValueError(f"no training lines with mlm_loss and nsp_loss in {', '.join(map(str, paths))}")
    if x == "time" and any(p["time"] is None for p in points):
        raise ValueError("some log lines have no parseable datetime; use --x step")
    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index in sorted({p["file"] for p in points}):
        mine = [p for p in points if p["file"] == index]
        xs = [p["time"] if x == "time" else p["step"] for p in mine]
        gap = _pause_threshold(xs) if x == "time" else None
        label = labels[index] if labels else Path(paths[index]).name
        for axis, key in zip(axes, LOSSES):
            for n, (a, b) in enumerate(_segments(xs, gap)):
                axis.plot(xs[a:b], [p[key] for p in mine[a:b]], color=colours[index % len(colours)],
                          linewidth=0.8, label=label if n == 0 else None)
    axes[0].set_ylabel("MLM loss")
    axes[1].set_ylabel("NSP loss")
    axes[0].legend(loc="upper right", fontsize=8)
    if x == "time":
        locator = mdates.AutoDateLocator()  # minutes for a demo run, days for a cluster run
        axes[1].xaxis.set_major_locator(locator)
        axes[1].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        axes[1].set_xlabel("wall-clock time")
        fig.autofmt_xdate()
    else:
        axes[1].set_xlabel("update step")
    for axis in axes:
        axis.grid(alpha=0.3)
    fig.suptitle(title or "BERT pretraining loss")
    return _save(fig, out)


def plot_epochs(histories: dict[str, list[dict[str, float]]], out: str | os.PathLike, metric: str,
                title: str | None = None) -> Path:
    """Per-epoch curves (paper Figure 2): for each model, dev `metric` (solid) and train loss (dashed).

    `histories` maps a model name to a list of {"epoch", "train_loss", "dev_<metric>" or "dev"} rows.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for name, rows in histories.items():
        epochs = [r["epoch"] for r in rows]
        dev = [r.get(f"dev_{metric}", r.get("dev")) for r in rows]
        top.plot(epochs, dev, marker="o", label=name)
        if all("train_loss" in r for r in rows):
            bottom.plot(epochs, [r["train_loss"] for r in rows], linestyle="--", marker=".", label=name)
    top.set_ylabel(f"dev {metric}")
    bottom.set_ylabel("train loss")
    bottom.set_xlabel("epoch")
    top.legend(fontsize=8)
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
    fig.suptitle(title or f"fine-tuning: dev {metric} per epoch")
    return _save(fig, out)


def main(args: argparse.Namespace, cfg: Any) -> int:
    out = args.out or str(Path(args.logs[0]).with_suffix("")) + ".png"
    try:
        path = plot_losses(args.logs, out, x=args.x, title=args.title)
    except (ValueError, OSError) as exc:
        print(f"plot-log: {exc}", flush=True)
        return 1
    points = load_points(args.logs)
    print(f"plot-log: {len(points)} points from {len(args.logs)} file(s) -> {path}")
    return 0
