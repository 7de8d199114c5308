"""The demo report: one page that shows the whole pipeline's results.

Reads what every stage wrote under the work folder — corpus statistics, the vocabulary report,
the pretraining logs, the evaluation tables, stage timings, run records — and writes
`WORK/demo/report.md` plus `report.html` with the images inline (one self-contained file).
"""
from __future__ import annotations

import argparse
import base64
import html
import re
from pathlib import Path
from typing import Any

from norlm.layout import Layout, layout_of
from norlm.files import atomic_open, read_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, help="output folder (default: WORK/demo)")
    parser.add_argument("--publish", default=None, metavar="DIR",
                        help="re-render WORK/eval/report.md from the result files with this code, write the report, "
                             "copy it with its figures, the BERT and ELMo loss logs and timings.tsv into DIR (the "
                             "reference run: logs/demo) and rebuild README.md's demo results from DIR/report.md")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _load(path: Path) -> Any:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- sections

def corpus_section(lay: Layout) -> str:
    stats = _load(lay.corpus_stats)
    if not stats:
        return "_corpus stage has not run._"
    rows, total = [], [0, 0, 0, 0, 0]
    for name, s in stats.get("sources", {}).items():
        dups = s.get("duplicates_within", 0) + s.get("duplicates_across", 0)
        values = [s.get("documents", 0), s.get("sentences", 0), s.get("words", 0), s.get("chars", 0), dups]
        total = [a + b for a, b in zip(total, values)]
        rows.append([f"{name} ({s.get('kind', '')}, {s.get('lang', '')})"] + values)
    rows.append(["**total**"] + total)
    text = _table(["source", "documents", "sentences", "words", "characters", "duplicate lines removed"], rows)
    text += f"\n\nSentence segmenter: `{stats.get('segmenter', '?')}`."
    dropped = {n: s.get("dropped", {}) for n, s in stats.get("sources", {}).items() if s.get("dropped")}
    if dropped:
        text += "  Sentences dropped by filters: " + "; ".join(
            f"{n}: " + ", ".join(f"{k} {v:,}" for k, v in d.items()) for n, d in dropped.items()) + "."
    return text


def vocab_section(lay: Layout) -> str:
    report = _load(lay.vocab_report)
    if not report:
        return "_vocab stage has not run._"
    vocabs = report.get("vocabularies", {})
    parts = [f"Method `{report.get('method')}`, {report.get('size', 0):,} entries "
             f"({report.get('unused', 0)} `[unused]` slots), trained on "
             f"{report.get('corpus', {}).get('lines', 0):,} corpus lines."]
    names = list(vocabs)
    label = {"ours": "this run", "published": "NorBERT (published)"}
    rows = []

    def get(v: dict, *keys: str) -> Any:
        for key in keys:
            v = v.get(key, {}) if isinstance(v, dict) else {}
        return v if v != {} else ""

    measures = [("lines", ("checks", "lines")), ("usable learned entries", ("checks", "usable_learned_entries")),
                ("unreachable entries", ("checks", "unreachable_total")), ("empty lines", ("checks", "empty_lines")),
                ("duplicate entries", ("checks", "duplicate_tokens"))]
    for lang in ("Bokmaal", "Nynorsk", "all"):
        measures += [(f"pieces per word, UD test {lang}", ("fertility", lang, "fertility")),
                     (f"[UNK] word rate, UD test {lang}", ("fertility", lang, "unk_word_rate"))]
    for title, keys in measures:
        values = [get(vocabs[n], *keys) for n in names]
        values = [len(v) if isinstance(v, list) else v for v in values]
        rows.append([title] + values)
    parts.append(_table(["measure"] + [label.get(n, n) for n in names], rows))
    sentence = next((get(vocabs[n], "paper_sentence", "text") for n in names), "")
    if sentence:
        lines = [f"The paper's example sentence: *{sentence}*", ""]
        for n in names:
            pieces = get(vocabs[n], "paper_sentence", "pieces")
            if pieces:
                lines.append(f"- {label.get(n, n)} ({len(pieces)} pieces): `{' '.join(pieces)}`")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def phase_name(log: Path) -> str:
    """"phase 1" for WORK/bert/phase1/dllog.json: the pretraining table's row name and the plots' legend."""
    return re.sub(r"(\d+)$", r" \1", log.parent.name)


def pretraining_section(lay: Layout, out: Path) -> str:
    from norlm.plots import load_points, plot_losses

    logs = [p for p in (lay.bert_dllog(1), lay.bert_dllog(2)) if p.exists()]
    if not logs:
        return "_bert-train has not run._"
    parts = []
    names = [phase_name(p) for p in logs]
    try:
        plot_losses(logs, out / "pretraining_loss_time.png", x="time", labels=names,
                    title="Demo BERT pretraining loss over time (paper Figure 1 style)")
        plot_losses(logs, out / "pretraining_loss_steps.png", x="step", labels=names,
                    title="Demo BERT pretraining loss by update step")
        parts.append("![loss over time](pretraining_loss_time.png)\n\n![loss over steps](pretraining_loss_steps.png)")
    except ValueError as exc:
        parts.append(f"_no plot: {exc}_")
    rows = []
    for log, name in zip(logs, names):
        points = load_points([log])
        final = _load(log.parent / "final.json") or {}
        if points:
            rows.append([name, points[0]["step"], points[-1]["step"], points[0]["mlm_loss"],
                         points[-1]["mlm_loss"], points[0]["nsp_loss"], points[-1]["nsp_loss"],
                         final.get("steady_throughput_seq_s") or ""])
    if rows:
        parts.append(_table(["phase", "first step", "last step", "MLM loss first", "MLM loss last",
                             "NSP loss first", "NSP loss last", "seq/s"], rows))
    elmo_final = _load(lay.elmo_final)
    if elmo_final:
        keep = {k: v for k, v in elmo_final.items() if isinstance(v, (int, float, str))}
        parts.append("**ELMo training**\n\n" + _table(["measure", "value"], [[k.replace("_", " "), v] for k, v in keep.items()]))
    from norlm.evaluate.learning_signals import render_file

    signals = render_file(lay.eval_signals)
    if signals:
        parts.append("**Learning signals against chance** (held-out text; measured by `norlm evaluate`)\n\n"
                     + "\n".join(signals))
    return "\n\n".join(parts)


# task -> (figure title, the dev quantity of its curves); graph tasks' curves are labelled-arc F1, whatever
# their headline metric (the eval documents say so in "metric": "...; curves: dev labelled-arc F1")
CURVE_TASKS = {"pos": ("POS tagging", "dev accuracy"), "ner": ("Named entities (NER)", "dev strict micro F1"),
               "sentiment": ("Sentence sentiment", "dev macro F1"),
               "finegrained": ("Fine-grained sentiment", "dev labelled-arc F1"),
               "negation": ("Negation", "dev labelled-arc F1")}
LANG_NAMES = {"nob": "Bokmål", "nno": "Nynorsk"}


def first_seed_curves(task_dir: Path) -> dict[str, dict[str, list[dict]]]:
    """{lang: {model name as the tables print it: first seed's per-epoch curve}}, in the tables' row order."""
    from norlm.evaluate.eval_report import MODEL_ORDER, model_name

    docs = {p.stem: _load(p) or {} for p in task_dir.glob("*.json")}
    curves: dict[str, dict[str, list[dict]]] = {}
    for model in sorted(docs, key=lambda m: (MODEL_ORDER.get(m, 9), m)):
        for lang, per_lang in sorted((docs[model].get("results") or {}).items(), key=lambda kv: kv[0] != "nob"):
            runs = per_lang.get("runs") or []
            if runs and runs[0].get("curve"):
                curves.setdefault(lang, {})[model_name(model, docs[model])] = runs[0]["curve"]
    return curves


def epoch_curves(lay: Layout, out: Path) -> list[str]:
    """Figure-2-style per-epoch curves (dev score and train loss) for every evaluated task and language."""
    from norlm.plots import plot_epochs

    images = []
    for task_dir in sorted(p for p in lay.eval_dir.iterdir() if p.is_dir()):
        title, quantity = CURVE_TASKS.get(task_dir.name, (task_dir.name, "dev score"))
        curves = first_seed_curves(task_dir)
        for lang, histories in curves.items():
            suffix = f"_{lang}" if len(curves) > 1 else ""
            where = f" ({LANG_NAMES.get(lang, lang)})" if len(curves) > 1 else ""
            name = f"finetuning_{task_dir.name}{suffix}.png"
            plot_epochs(histories, out / name, ylabel=quantity, title=f"{title}{where}: dev score per epoch, first seed")
            images.append(f"![{task_dir.name}{where} per-epoch curves]({name})")
    return images


def evaluation_section(lay: Layout, out: Path) -> str:
    report = lay.eval_report
    if not report.exists():
        return "_evaluate has not run._"
    text = report.read_text(encoding="utf-8")
    # demote the evaluation report's headings by two levels so they nest under this section
    text = re.sub(r"^(#+) ", lambda m: "##" + m.group(1) + " ", text, flags=re.M)
    images = epoch_curves(lay, out)
    if images:
        text += "\n\n#### Fine-tuning curves (paper Figure 2 style)\n\n" + "\n\n".join(images)
    return text


def timings_section(lay: Layout) -> str:
    path = lay.timings
    if not path.exists():
        return "_no stage timings recorded (stages run outside make)._"
    rows, total = [], 0.0
    latest: dict[str, list] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            latest[f"{parts[0]} {parts[1]}"] = [parts[0], parts[1], float(parts[2])]
    for row in latest.values():
        rows.append(row)
        total += row[2]
    rows.append(["total", "", total])
    return _table(["stage", "what", "seconds"], rows)


def provenance_section(lay: Layout) -> str:
    rows = []
    for record_path in sorted(lay.work.rglob("run-*.json")):
        rec = _load(record_path) or {}
        versions = rec.get("versions", {})
        rows.append([str(record_path.relative_to(lay.work)), rec.get("seed", ""), rec.get("time", ""),
                     versions.get("tensorflow-cpu", versions.get("tensorflow", "")), versions.get("python", "")])
    if not rows:
        return "_no run records found._"
    return _table(["run record", "seed", "time", "TensorFlow", "Python"], rows)


# --------------------------------------------------------------------------- rendering

def render_markdown(lay: Layout, out: Path, cfg: Any) -> str:
    sections = [
        ("Corpus", corpus_section(lay)),
        ("Vocabulary", vocab_section(lay)),
        ("Pretraining", pretraining_section(lay, out)),
        ("Evaluation", evaluation_section(lay, out)),
        ("Stage timings", timings_section(lay)),
        ("Versions and seeds", provenance_section(lay)),
    ]
    head = (f"# NorLM demo report\n\nConfig `{cfg.source}`, work folder `{lay.work}`, seed {cfg.run.seed}.  "
            "Every number below was produced by this run; the evaluation tables show the published "
            "full-scale numbers alongside for reference only (demo models are tiny and trained for minutes).\n")
    return head + "\n".join(f"\n## {title}\n\n{body}\n" for title, body in sections)


def markdown_to_html(text: str, image_dir: Path) -> str:
    """Self-contained HTML: tables rendered, PNG images embedded as data URIs."""
    import markdown

    body = markdown.markdown(text, extensions=["tables", "fenced_code"])

    def inline(match: re.Match) -> str:
        src = html.unescape(match.group(1))
        path = image_dir / src
        if not path.exists():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([^"]+\.png)"', inline, body)
    style = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}img{max-width:100%}")
    return f"<!doctype html>\n<html><head><meta charset='utf-8'><title>NorLM demo report</title><style>{style}</style></head>\n<body>\n{body}\n</body></html>\n"


def publish(lay: Layout, out: Path, target: Path) -> list[Path]:
    """Copy a finished demo run's report, figures, loss logs and timings into `target` (e.g. logs/demo)."""
    import shutil

    from norlm.files import atomic_path

    files = {out / "report.md": "report.md", lay.bert_dllog(1): "bert_phase1_dllog.json",
             lay.bert_dllog(2): "bert_phase2_dllog.json", lay.elmo_train / "dllog.json": "elmo_dllog.json",
             lay.timings: "timings.tsv", **{png: png.name for png in sorted(out.glob("*.png"))}}
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for source, name in files.items():
        if source.is_file():
            with atomic_path(target / name) as tmp:
                shutil.copyfile(source, tmp)
            written.append(target / name)
    return written


def main(args: argparse.Namespace, cfg: Any) -> int:
    lay = layout_of(cfg)
    out = Path(args.out) if args.out else lay.report_dir
    out.mkdir(parents=True, exist_ok=True)
    if args.publish:  # the published report shows this code's tables, whichever code ran the evaluation
        from norlm.evaluate.eval_report import write_report

        write_report(lay, cfg.run.name)
    text = render_markdown(lay, out, cfg)
    with atomic_open(out / "report.html") as fh:
        fh.write(markdown_to_html(text, out))
    with atomic_open(out / "report.md") as fh:
        fh.write(text)
    print(f"report: {out / 'report.md'} and report.html")
    if args.publish:
        from norlm.config import REPO_ROOT
        from norlm.demo_readme import write_readme

        target = Path(args.publish)
        written = publish(lay, out, target)
        write_readme(target / "report.md", REPO_ROOT / "README.md")
        print(f"report: published {len(written)} files to {target}; README.md demo results rebuilt from it")
    return 0
