"""README's demo results, generated from a demo report, so README cannot claim what the report does not:
the scores table, the "what pretraining bought" list (a verdict only where the report's row has one, from
seeds of the same run; a one-seed row gets none) and the learning-signals table.

  python -m norlm.demo_readme                 # print the section built from logs/demo/report.md
  python -m norlm.demo_readme --write         # put it in README.md between its markers
  norlm report --config configs/demo.toml --publish logs/demo   # refresh logs/demo/ first, then --write

tests/test_demo_report_readme.py holds README to it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from norlm.evaluate.twins import FINETUNE, FROZEN_BERT, FROZEN_ELMO, ONE_SEED

BEGIN = "<!-- demo-results:begin (generated from logs/demo/report.md by `python -m norlm.demo_readme --write`; " \
        "do not edit by hand) -->\n"
END = "<!-- demo-results:end -->"
# README column -> (report table heading prefix, column of the report table)
COLUMNS = {"POS accuracy": ("Table 2", "BM accuracy"), "NER F1": ("Table 3", "BM F1"),
           "sentiment F1": ("Table 5", "F1"), "fine-grained SF1": ("Table 4", "SF1"),
           "negation full F1": ("Table 6", "FN")}
TASK_NAMES = {"pos": "POS", "ner": "NER", "sentiment": "sentiment"}
PROTOCOLS = {FINETUNE: "fine-tuned", FROZEN_BERT: "frozen features", FROZEN_ELMO: "frozen features"}


def report_tables(report: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    """{the heading or bold lead line above a table: (header cells, body rows)} of a markdown report."""
    tables: dict[str, tuple[list[str], list[list[str]]]] = {}
    title, rows = "", []
    for line in report.splitlines() + [""]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
            continue
        if len(rows) > 2:
            tables.setdefault(title, (rows[0], rows[2:]))
        rows = []
        if line.startswith("#") or line.startswith("**"):
            title = line.lstrip("#* ").strip()
    return tables


def _find(tables: dict, prefix: str) -> tuple[list[str], list[list[str]]] | None:
    return next((t for title, t in tables.items() if title.startswith(prefix)), None)


def scores_table(tables: dict) -> list[str]:
    """One row per model of this run (the report's names, in its order), one column per task's headline."""
    models: dict[str, dict[str, str]] = {}
    for column, (prefix, wanted) in COLUMNS.items():
        found = _find(tables, prefix)
        if not found or wanted not in found[0]:
            continue
        head, rows = found
        for row in rows:
            if len(row) == len(head) and row[1] == "this run":
                models.setdefault(row[0].strip("*"), {})[column] = row[head.index(wanted)]
    lines = ["| model | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    lines += [f"| {name} | " + " | ".join(cells.get(c, "") for c in COLUMNS) + " |" for name, cells in models.items()]
    return lines


def gain_items(tables: dict) -> list[str]:
    """A bullet per (model, protocol) of the report's twin table; differences only with a verdict."""
    found = _find(tables, "What pretraining bought")
    if not found:
        return []
    head, rows = found
    col = {name: head.index(name) for name in ("task", "model", "protocol", "gain", "seeds")}
    groups: dict[tuple[str, str], list[list[str]]] = {}
    for row in rows:
        groups.setdefault((row[col["model"]], row[col["protocol"]]), []).append(row)
    items = []
    for (model, protocol), mine in groups.items():
        how = PROTOCOLS.get(protocol, protocol)
        tasks = [TASK_NAMES.get(r[col["task"]], r[col["task"]]) for r in mine]
        if all(r[col["seeds"]].startswith("one seed") for r in mine):
            items.append(f"- **{model}**, {how}: one seed per model on {', '.join(tasks)}, so no verdict.")
            continue
        parts = [f"{task} {r[col['gain']]} ({r[-1]})" if not r[col["seeds"]].startswith("one seed")
                 else f"{task}: {ONE_SEED}" for task, r in zip(tasks, mine)]
        seeds = sorted({r[col["seeds"]].split(" ")[0] for r in mine if not r[col["seeds"]].startswith("one")})
        items.append(f"- **{model}**, {how}, {'/'.join(seeds)} seeds against its untrained twin: "
                     + ", ".join(parts) + ".")
    return items


def seed_counts(tables: dict) -> list[int]:
    """The seed counts above one that the report's score tables show."""
    counts = set()
    for head, rows in tables.values():
        if "seeds" in head and head[:2] == ["model", "source"]:
            counts |= {int(r[head.index("seeds")]) for r in rows if r[head.index("seeds")].isdigit()}
    return sorted(c for c in counts if c > 1)


def build_section(report: str) -> str:
    """README's generated demo block (between BEGIN and END) from the text of a demo report.md."""
    tables = report_tables(report)
    seeds = seed_counts(tables)
    lines = ["Bokmål test scores of the demo protocol (subsets of the training data, tiny models, minutes of "
             "training); the published full-scale numbers are in the report for reference only. A score with ± "
             f"is the mean ± sd over {'/'.join(map(str, seeds)) or 'several'} seeds of this run; a score without "
             "± is one seed.", "", *scores_table(tables), ""]
    items = gain_items(tables)
    if items:
        lines += ["**What pretraining bought**: each model against its untrained twin under the same protocol. "
                  "A verdict compares the difference with twice the larger seed sd measured in the same run; "
                  "a one-seed row has no verdict, since one seed of fine-tuning on the demo's small data did not "
                  "reproduce on another CPU (`logs/demo/FINDINGS.md`).", "", *items, ""]
    signals = _find(tables, "Learning signals against chance")
    if signals:
        head, rows = signals
        lines += ["**Learning signals against chance** (held-out text; the model at step 0 is its untrained twin):",
                  "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head),
                  *["| " + " | ".join(r) + " |" for r in rows], ""]
    return "\n".join(lines)


def split_readme(readme: str, name: str = "README.md") -> tuple[str, str, str]:
    """(text before the block, the generated block, text after it); StageError without both markers."""
    from norlm.errors import StageError

    if BEGIN not in readme or END not in readme.split(BEGIN, 1)[1]:
        raise StageError(f"{name}: no demo results markers ({BEGIN.strip()} ... {END})")
    head, rest = readme.split(BEGIN, 1)
    block, tail = rest.split(END, 1)
    return head, block, tail


def write_readme(report: Path, readme: Path) -> None:
    """Replace README's generated demo block with the one built from `report`."""
    from norlm.errors import StageError
    from norlm.files import atomic_open

    if not report.is_file():
        raise StageError(f"{report}: no demo report to build README's demo results from")
    head, _, tail = split_readme(readme.read_text(encoding="utf-8"), str(readme))
    with atomic_open(readme) as fh:
        fh.write(head + BEGIN + build_section(report.read_text(encoding="utf-8")) + END + tail)


def main(argv: list[str] | None = None) -> int:
    from norlm.config import REPO_ROOT
    from norlm.errors import StageError

    parser = argparse.ArgumentParser(prog="python -m norlm.demo_readme", description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", default=str(REPO_ROOT / "logs" / "demo" / "report.md"))
    parser.add_argument("--readme", default=str(REPO_ROOT / "README.md"))
    parser.add_argument("--write", action="store_true", help="replace README's block (default: print it)")
    args = parser.parse_args(argv)
    try:
        if args.write:
            write_readme(Path(args.report), Path(args.readme))
            print(f"demo_readme: {args.readme} demo results rebuilt from {args.report}")
        else:
            print(build_section(Path(args.report).read_text(encoding="utf-8")), end="")
    except (StageError, OSError) as exc:
        print(f"demo_readme: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
