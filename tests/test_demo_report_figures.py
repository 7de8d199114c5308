"""Every figure the demo report makes reads at a glance (issue 32): each text element (titles, axis
labels, tick labels, legends) lies inside the canvas and overlaps no other, the legends use the names
of the report's tables, and time axes read as increasing elapsed times in one unit.

The inputs are fabricated in exactly the shape a `make demo` leaves them: the committed demo BERT
loss logs, and eval/<task>/<model>.json documents with the demo's models, labels, metrics, epochs and
per-epoch curves (Tables 2-6)."""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import pytest

from norlm import plots
from norlm.evaluate.eval_report import write_report
from norlm.evaluate.results import summarise, write_result
from norlm.evaluate.stage import LABELS
from norlm.layout import Layout
from tests.conftest import REPO

DEMO_LOGS = REPO / "logs" / "demo"
# the demo's evaluate models and epochs (configs/demo.toml): fine-tuning 12 epochs, probes 10 (NER 40)
FLAT_TASKS = {"pos": "accuracy", "ner": "strict micro F1 (8 types, MISC ignored)", "sentiment": "macro F1"}
FLAT_MODELS = ("bert", "elmo", "baseline", "bert-frozen", "baseline-frozen", "elmo-random")
GRAPH_TASKS = {"finegrained": "SF1 (NorLM-era scorer)", "negation": "full negation F1"}
GRAPH_MODELS = {"bert": "BERT (this run)", "elmo": "ELMo (this run)", "none": "no LM (parser only)"}
T4_KEYS = ("holder_f1", "target_f1", "expression_f1", "targeted_f1", "uf1", "lf1", "nsf1", "sf1", "sf1_semeval2022")
T6_KEYS = ("cue_f1", "scope_tokens_f1", "full_negation_f1")


def _curve(epochs: int, start: float, end: float) -> list[dict]:
    step = (end - start) / max(epochs - 1, 1)
    return [{"epoch": e, "train_loss": 2.0 / e, "dev": start + step * (e - 1), "seconds": 3.0}
            for e in range(1, epochs + 1)]


def _flat_entry(task: str, model: str, seeds: int) -> dict:
    epochs = 12 if model in ("bert", "baseline") else (40 if task == "ner" else 10)
    runs = [{"seed": 12345 + i, "best_epoch": epochs, "dev": {"score": 0.6}, "test": {"score": 0.6 + i / 100},
             "curve": _curve(epochs, 0.1, 0.6 + i / 100), "seconds": 20.0} for i in range(seeds)]
    return {"fingerprint": "x", "data_protocol": "paper, subsets", "notes": [],
            "sizes": {"train": 600, "dev": 200, "test": 1939}, "sizes_full": {"train": 1927, "dev": 482, "test": 1939},
            "protocol": {"epochs": epochs, "batch_size": 8, "learning_rate": 1e-3}, "runs": runs,
            "summary": summarise(runs)}


def _graph_entry(task: str) -> dict:
    keys = T4_KEYS if task == "finegrained" else T6_KEYS
    metrics = {k: {"mean": 20.0, "sd": 0.0} for k in keys}
    runs = [{"seed": 1234, "best_epoch": 6, "dev": {"score": 0.2}, "test": {"score": 0.2},
             "curve": _curve(7, 0.0, 0.62), "seconds": 33.0}]
    summary = {**summarise(runs), "test_metrics": metrics, "dev_metrics": metrics}
    protocol = {"epochs": 7, "batch_size": 16, "lstm_layers": 1, "lstm_hidden": 100, "scorer_dim": 100,
                "encoding": "head_final-inside_label", "seeds": [1234], "lemma_source": "lookup",
                "pos_source": "none", "external_word_vectors": "none"}
    return {"fingerprint": "x", "data_protocol": "demo, subsets", "notes": [], "runs": runs, "summary": summary,
            "sizes": {"train": 1500, "dev": 300, "test": 1272}, "sizes_full": {"train": 8634, "dev": 1531, "test": 1272},
            "protocol": protocol}


def make_demo_shaped_work(work) -> Layout:
    """A work folder holding what the report reads after `make demo`: loss logs and eval results."""
    lay = Layout(work)
    for phase in (1, 2):
        lay.bert_dllog(phase).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO_LOGS / f"bert_phase{phase}_dllog.json", lay.bert_dllog(phase))
    for task, metric in FLAT_TASKS.items():
        for model in FLAT_MODELS:
            header = {"task": task, "model": model, "label": LABELS[model], "metric": metric,
                      "kind": "elmo" if "elmo" in model else "bert", "frozen": model.endswith("-frozen")}
            write_result(lay.eval_result(task, model), header, "nob",
                         _flat_entry(task, model, 1 if model in ("bert", "baseline") else 3))
    for task, headline in GRAPH_TASKS.items():
        for model, label in GRAPH_MODELS.items():
            header = {"task": task, "model": model, "label": label, "kind": model,
                      "metric": f"{headline}; curves: dev labelled-arc F1"}
            write_result(lay.eval_result(task, model), header, "nob", _graph_entry(task))
    return lay


def table_names(report: str) -> set[str]:
    """Model names of the report's tables: the bold first cells of its rows."""
    return set(re.findall(r"^\| \*\*(.+?)\*\* \|", report, flags=re.M))


# --------------------------------------------------------------------------- the layout checks

def _drawn_tick_labels(fig) -> tuple[set[int], set[int]]:
    """(ids of every tick label, ids of the tick labels matplotlib draws: ticks inside the view)."""
    every, drawn = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            every |= {id(t) for tick in ticks for t in (tick.label1, tick.label2)}
            drawn |= {id(t) for tick in axis._update_ticks() for t in (tick.label1, tick.label2)}
    return every, drawn


def text_boxes(fig) -> list[tuple[str, object, bool]]:
    """(text, window bbox, belongs to a legend) of every visible, non-empty text the canvas shows."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    if not isinstance(fig.canvas, FigureCanvasAgg):  # a closed figure keeps only a base canvas
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    every, drawn = _drawn_tick_labels(fig)
    in_legend = {id(t) for legend in _legends(fig) for t in legend.findobj(Text)}
    boxes = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip() or (id(text) in every and id(text) not in drawn):
            continue
        boxes.append((text.get_text(), text.get_window_extent(renderer), id(text) in in_legend))
    return boxes


def _overlap(a, b) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5


def layout_problems(fig) -> list[str]:
    """Texts outside the canvas, pairs of texts that overlap, and texts under a legend's frame."""
    width, height = fig.canvas.get_width_height()
    boxes = text_boxes(fig)
    problems = [f"outside the canvas: {t!r}" for t, b, _ in boxes
                if b.x0 < -0.5 or b.y0 < -0.5 or b.x1 > width + 0.5 or b.y1 > height + 0.5]
    for i, (t1, b1, _) in enumerate(boxes):
        problems += [f"overlap: {t1!r} / {t2!r}" for t2, b2, _ in boxes[i + 1:] if _overlap(b1, b2)]
    renderer = fig.canvas.get_renderer()
    for legend in _legends(fig):
        frame = legend.get_window_extent(renderer)
        problems += [f"legend covers {t!r}" for t, b, mine in boxes if not mine and _overlap(b, frame)]
    return problems


def _legends(fig) -> list:
    return list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]


def legend_entries(fig) -> list[str]:
    return [t.get_text() for legend in _legends(fig) for t in legend.get_texts()]


@pytest.fixture
def captured(monkeypatch):
    """Every figure the plotting code saves, with its output path."""
    figures = []
    original = plots._save

    def save(fig, out):
        figures.append((str(out), fig))
        return original(fig, out)

    monkeypatch.setattr(plots, "_save", save)
    return figures


def _time_axis_problems(fig) -> list[str]:
    """A time axis reads as elapsed time: its drawn tick labels are numbers, increasing, under a unit."""
    problems = []
    for ax in fig.axes:
        label = ax.xaxis.get_label().get_text()
        if "time" not in label:
            continue
        if not re.search(r"\((s|min|h|days)\)$", label):
            problems.append(f"time axis label without a unit: {label!r}")
        ticks = [t.label1.get_text().replace("\u2212", "-") for t in ax.xaxis._update_ticks()
                 if t.label1.get_visible() and t.label1.get_text()]
        try:
            values = [float(t) for t in ticks]
        except ValueError:
            problems.append(f"time tick labels that are not elapsed times: {ticks}")
            continue
        if values != sorted(set(values)) or len(values) < 3:
            problems.append(f"time tick labels not increasing: {ticks}")
    return problems


# --------------------------------------------------------------------------- the tests

def test_every_demo_report_figure_reads_at_a_glance(tmp_path, captured):
    from norlm import demo_report

    lay = make_demo_shaped_work(tmp_path / "work")
    report = write_report(lay, "demo").read_text(encoding="utf-8")
    names = table_names(report)
    out = tmp_path / "demo"
    out.mkdir()
    phases = set(re.findall(r"^\| (phase ?\d) \|", demo_report.pretraining_section(lay, out), flags=re.M))
    demo_report.epoch_curves(lay, out)
    made = sorted(path.rsplit("/", 1)[-1] for path, _ in captured)
    assert made == ["finetuning_finegrained.png", "finetuning_negation.png", "finetuning_ner.png",
                    "finetuning_pos.png", "finetuning_sentiment.png", "pretraining_loss_steps.png",
                    "pretraining_loss_time.png"]
    problems = {}
    for path, fig in captured:
        name = path.rsplit("/", 1)[-1]
        found = layout_problems(fig) + _time_axis_problems(fig)
        entries = legend_entries(fig)
        if name.startswith("finetuning_"):
            task = name[len("finetuning_"):-len(".png")]
            models = GRAPH_MODELS.values() if task in GRAPH_TASKS else [LABELS[m] for m in FLAT_MODELS]
            if sorted(entries) != sorted(models) or not set(entries) <= names:
                found.append(f"legend {entries} is not the tables' names {sorted(models)}")
        else:
            if set(entries) != phases:
                found.append(f"legend {entries} is not the pretraining table's phases {sorted(phases)}")
        if found:
            problems[name] = found
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


def _three_week_log(path, pause_hours=30):
    """A published-format DLLogger file (NorBERT's bert_*_phase1 shape): 21 days of steps every 10 minutes,
    a 30-hour pause after day 9, string timestamps, datetimes with and without microseconds."""
    start = dt.datetime(2020, 12, 1, 9, 0, 0)
    lines = ["DLLL " + json.dumps({"timestamp": "1606813200.0", "elapsedtime": "0.0001", "datetime": str(start),
                                   "type": "METADATA", "metric": "mlm_loss",
                                   "metadata": {"format": ":.4f", "GOAL": "MINIMIZE", "STAGE": "TRAIN"}})]
    t, step = start, 0
    while t < start + dt.timedelta(days=21):
        step += 100
        t += dt.timedelta(minutes=10) if step != 130_000 else dt.timedelta(hours=pause_hours)
        loss = 2.0 + 8.0 / (1 + step / 20_000)
        lines.append("DLLL " + json.dumps({
            "timestamp": f"{t.timestamp():.1f}", "datetime": str(t), "elapsedtime": "1.0", "type": "LOG",
            "step": step, "data": {"mlm_loss": loss, "nsp_loss": 0.1 + 0.6 / (1 + step / 5_000),
                                   "throughput_train": 640.0, "learning_rate": "1e-05"}}))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("days", [21, None])
def test_published_three_week_log_with_a_pause(tmp_path, captured, days):
    """A 3-week run with a 30-hour pause: elapsed days that increase, the pause left undrawn."""
    log = _three_week_log(tmp_path / "bert_3_phase1_1.json")
    plots.plot_losses([log], tmp_path / "three_weeks.png", x="time" if days else "step")
    (_, fig), = captured
    assert not layout_problems(fig) + _time_axis_problems(fig)
    lines = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 1]
    assert len(lines) == (2 if days else 1)  # on the time axis the pause is a gap, not a line
    if days:
        assert fig.axes[-1].xaxis.get_label().get_text().endswith("(days)")
        assert max(max(line.get_xdata()) for line in lines) == pytest.approx(21, abs=0.1)
