"""Loss curves in the style of the NorLM paper's Figure 1 (MLM and NSP loss over wall-clock time,
pauses visible) from any DLLogger file — ours or the published NVIDIA/NorBERT logs — and per-epoch
fine-tuning curves in the style of its Figure 2.

Every figure has one style, so each reads at a glance at the size the report shows it: a short title,
one quantity and its unit per axis label, legends outside the axes (they name what the report's tables
name), and time as elapsed time in one unit picked from the run's length (s, min, h or days), so a
two-minute demo and a three-week cluster log both get round, increasing tick labels.

  norlm plot-log work/demo/bert/phase1/dllog.json work/demo/bert/phase2/dllog.json --out loss.png
  norlm plot-log bert_3_phase1_1.json.gz --x step
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
from pathlib import Path
from typing import Any, Sequence

from norlm.dllogger import curve_points, read_dllog

LOSSES = ("mlm_loss", "nsp_loss")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("logs", nargs="+", help="DLLogger JSON files (.gz allowed), in chronological order")
    parser.add_argument("--x", choices=["time", "step"], default="time",
                        help="horizontal axis: elapsed wall-clock time (default; pauses show as shaded gaps) "
                             "or update step")
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


# figure style: the report shows images at most 1000 px wide; 8 in at 110 dpi fits
STYLE = {"font.size": 9, "axes.titlesize": 10, "figure.titlesize": 11, "axes.labelsize": 9,
         "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.grid": True, "grid.alpha": 0.3}
WIDTH, HEIGHT = 8.0, 5.6
# elapsed-time units by run length: (longest span in seconds, unit name, seconds per unit)
TIME_UNITS = ((180, "s", 1), (3 * 3600, "min", 60), (3 * 86400, "h", 3600), (float("inf"), "days", 86400))


def _pause_threshold(times: list[dt.datetime]) -> dt.timedelta | None:
    """A gap longer than 20 typical logging intervals (and at least 10 minutes) counts as a pause."""
    if len(times) < 3:
        return None
    diffs = sorted((b - a) for a, b in zip(times, times[1:]) if b >= a)
    typical = diffs[len(diffs) // 2]
    return max(typical * 20, dt.timedelta(minutes=10))


def time_unit(span_seconds: float) -> tuple[str, float]:
    """(unit name, seconds per unit) for an elapsed-time axis spanning `span_seconds`."""
    return next((name, seconds) for longest, name, seconds in TIME_UNITS if span_seconds <= longest)


def _house_style(draw):
    """Run a drawing function under STYLE (fonts, grid) with the file-only Agg backend."""
    @functools.wraps(draw)
    def styled(*args, **kwargs):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        with plt.rc_context(STYLE):
            return draw(*args, **kwargs)
    return styled


def _figure(rows: int):
    """`rows` panels sharing the x axis; constrained layout keeps every label and the legend on the canvas."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, 1, figsize=(WIDTH, HEIGHT), sharex=True, layout="constrained")
    return fig, list(axes)


def _round_ticks(axis) -> None:
    """At most 8 round tick values, printed plainly (no offset, no scientific notation)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))


def _legend(fig, handles: list, labels: list[str]) -> None:
    """One legend for the figure, below the panels, in as many columns as fit (names stay whole)."""
    width = max(len(label) for label in labels)
    columns = max(1, min(len(labels), int(88 // (width + 6))))
    fig.legend(handles, labels, loc="outside lower center", ncols=columns, frameon=False)


def _save(fig, out: str | os.PathLike) -> Path:
    """Write a figure atomically (temporary name, then rename) and release it."""
    import matplotlib.pyplot as plt

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, out)
    return out


def _x_values(points: list[dict], x: str) -> tuple[list[float], str]:
    """Horizontal values of every point and the axis label: elapsed time from the first point, or steps."""
    if x != "time":
        return [float(p["step"]) for p in points], "update step"
    start = min(p["time"] for p in points)
    elapsed = [(p["time"] - start).total_seconds() for p in points]
    unit, seconds = time_unit(max(elapsed))
    return [e / seconds for e in elapsed], f"elapsed time from {start:%Y-%m-%d %H:%M} ({unit})"


def _draw_file(axes, mine: list[dict], xs: list[float], x: str, colour: str) -> list:
    """One file's MLM and NSP curves, a line per stretch between pauses; pauses shaded, restarts dotted."""
    threshold = _pause_threshold([p["time"] for p in mine]) if x == "time" else None
    paused = [i + 1 for i in range(len(mine) - 1) if threshold and mine[i + 1]["time"] - mine[i]["time"] > threshold]
    cuts = [0, *paused, len(mine)]
    handles = []
    for axis, key in zip(axes, LOSSES):
        for a, b in zip(cuts[:-1], cuts[1:]):
            line, = axis.plot(xs[a:b], [p[key] for p in mine[a:b]], color=colour, linewidth=0.9,
                              marker="." if b - a == 1 else None)
            handles = handles or [line]
        for cut in cuts[1:-1]:
            axis.axvspan(xs[cut - 1], xs[cut], color="0.5", alpha=0.15, linewidth=0)
        for i, p in enumerate(mine):
            if p.get("restart"):
                axis.axvline(xs[i], color=colour, linestyle=":", linewidth=0.8)
    return handles


@_house_style
def plot_losses(paths: Sequence[str | os.PathLike], out: str | os.PathLike, x: str = "time",
                title: str | None = None, labels: Sequence[str] | None = None) -> Path:
    """Draw MLM (top) and NSP (bottom) loss; one colour per file; returns the image path."""
    import matplotlib.pyplot as plt

    points = load_points(paths)
    if not points:
        raise ValueError(f"no training lines with mlm_loss and nsp_loss in {', '.join(map(str, paths))}")
    if x == "time" and any(p["time"] is None for p in points):
        raise ValueError("some log lines have no parseable datetime; use --x step")
    fig, axes = _figure(2)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    xs, xlabel = _x_values(points, x)
    handles, names = [], []
    for index in sorted({p["file"] for p in points}):
        chosen = [i for i, p in enumerate(points) if p["file"] == index]
        handles += _draw_file(axes, [points[i] for i in chosen], [xs[i] for i in chosen], x,
                              colours[index % len(colours)])
        names.append(labels[index] if labels else Path(paths[index]).name)
    axes[0].set_ylabel("MLM loss (nats)")
    axes[1].set_ylabel("NSP loss (nats)")
    axes[1].set_xlabel(xlabel)
    _round_ticks(axes[1].xaxis)
    _legend(fig, handles, names)
    fig.suptitle(title or "BERT pretraining loss")
    return _save(fig, out)


@_house_style
def plot_epochs(histories: dict[str, list[dict[str, float]]], out: str | os.PathLike, ylabel: str,
                title: str) -> Path:
    """Per-epoch curves (paper Figure 2): dev score in % (top) and train loss (bottom), a colour per model.

    `histories` maps the model's name as the report's tables print it to its first seed's curve: rows of
    {"epoch", "dev" (a fraction), "train_loss" (nats)}.
    """
    fig, (top, bottom) = _figure(2)
    handles = []
    for name, rows in histories.items():
        epochs = [r["epoch"] for r in rows]
        line, = top.plot(epochs, [100 * r["dev"] for r in rows], marker="o", markersize=3, linewidth=1)
        handles.append(line)
        if all("train_loss" in r for r in rows):
            bottom.plot(epochs, [r["train_loss"] for r in rows], color=line.get_color(), marker=".",
                        markersize=3, linewidth=1, linestyle="--")
    top.set_ylabel(f"{ylabel} (%)")
    bottom.set_ylabel("train loss (nats)")
    bottom.set_xlabel("epoch")
    _round_ticks(bottom.xaxis)
    bottom.xaxis.get_major_locator().set_params(integer=True)
    _legend(fig, handles, list(histories))
    fig.suptitle(title)
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
