"""The support matrix: which route or TensorFlow line ran which tests and passed, from real runs.

`make test-route` and `scripts/tf-matrix.sh` record one row per run into requirements/routes/results.tsv
(run with the venv's own Python, so the versions are the ones the tests saw); README's table between
the support-matrix markers is rendered from that file (`--readme` rewrites it; a test checks it).

    python scripts/support_matrix.py record KIND NAME ENGINE JUNIT.xml SECONDS
    python scripts/support_matrix.py readme            rewrite README.md's table from results.tsv
"""
from __future__ import annotations

import datetime
import importlib.metadata as md
import os
import platform
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "requirements" / "routes" / "results.tsv"
README = REPO / "README.md"
BEGIN, END = "<!-- support-matrix:begin -->", "<!-- support-matrix:end -->"
FIELDS = ["kind", "name", "python", "tensorflow", "numpy", "keras", "engine", "date", "seconds", "groups"]
# what a cell of the table stands for: a label and the test ids (module path, optional test name) in it
GROUPS = {
    "smoke chain": [("tests.test_smoke_chain", "")],
    "BERT tf-distribute 2 = 1": [("tests.multiworker.test_bert_train",
                                  "test_tf_distribute_two_workers_equal_one_process_with_double_batch")],
    "ELMo tf-distribute 2 = 1": [("tests.multiworker.test_elmo_train",
                                  "test_tf_distribute_two_workers_equal_one_process_with_double_batch")],
    "export parity": [("tests.bert.interop.test_export_tf1", ""), ("tests.elmo.test_export", ""),
                      ("tests.elmo.test_simple_elmo", "")],
    "Horovod 2 ranks = 1": [("tests.multiworker.test_bert_train",
                             "test_two_ranks_mpirun_equal_one_process_with_double_batch"),
                            ("tests.multiworker.test_elmo_train",
                             "test_horovod_two_ranks_equal_one_process_with_double_batch")],
    "route checks": [("tests.routes.test_route_env", "")],
}


def group_of(classname: str, name: str) -> str:
    base = name.split("[", 1)[0]
    for label, ids in GROUPS.items():
        if any(classname == mod and (not test or base == test) for mod, test in ids):
            return label
    return "other"


def tally(junit: Path) -> dict[str, list[int]]:
    """label -> [passed, run] from a pytest JUnit XML file (skipped tests are not run)."""
    counts: dict[str, list[int]] = {}
    if not junit.exists() or junit.stat().st_size == 0:  # pytest stopped before any test (e.g. an import)
        return {"collection error": [0, 1]}
    for case in ET.parse(junit).iter("testcase"):
        if case.find("skipped") is not None:
            continue
        cell = counts.setdefault(group_of(case.get("classname", ""), case.get("name", "")), [0, 0])
        cell[1] += 1
        cell[0] += case.find("failure") is None and case.find("error") is None
    return counts


def version(dist: str) -> str:
    """The installed version; TF release candidates depend on keras-nightly instead of keras."""
    for name in (dist, dist.replace("-cpu", "_cpu"), f"{dist}-nightly"):
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            pass
    return "-"


def read_rows() -> list[dict[str, str]]:
    if not RESULTS.exists():
        return []
    lines = RESULTS.read_text(encoding="utf-8").splitlines()
    return [dict(zip(FIELDS, line.split("\t"))) for line in lines[1:] if line.strip()]


def record(kind: str, name: str, engine: str, junit: Path, seconds: str) -> None:
    """Replace the row of (kind, name) with this run's versions and per-group counts."""
    counts = tally(junit)
    row = {"kind": kind, "name": name, "python": platform.python_version(), "tensorflow": version("tensorflow-cpu"),
           "numpy": version("numpy"), "keras": version("keras"), "engine": engine,
           "date": datetime.date.today().isoformat(), "seconds": seconds,
           "groups": ";".join(f"{k}={p}/{n}" for k, (p, n) in sorted(counts.items()))}
    rows = [r for r in read_rows() if (r["kind"], r["name"]) != (kind, name)] + [row]
    rows.sort(key=lambda r: (r["kind"] != "route", r["name"]))
    text = "\t".join(FIELDS) + "\n" + "".join("\t".join(r[f] for f in FIELDS) + "\n" for r in rows)
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, RESULTS)


def cell(groups: dict[str, tuple[int, int]], label: str) -> str:
    if label not in groups:
        return "–"
    passed, run = groups[label]
    return f"{'pass' if passed == run else 'FAIL'} {passed}/{run}"


def render(rows: list[dict[str, str]]) -> str:
    labels = [*GROUPS, "other"]
    head = ["route / TF line", "Python", "TensorFlow", "numpy", "Keras", "engine", *labels, "all", "run on"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        groups = {}
        for item in filter(None, row["groups"].split(";")):
            label, _, counts = item.rpartition("=")
            groups[label] = tuple(int(x) for x in counts.split("/"))
        passed, run = sum(p for p, _ in groups.values()), sum(n for _, n in groups.values())
        name = f"route `{row['name']}`" if row["kind"] == "route" else f"TF {row['name']}"
        out.append("| " + " | ".join([name, row["python"], row["tensorflow"], row["numpy"], row["keras"],
                                      row["engine"], *(cell(groups, g) for g in labels),
                                      f"{'pass' if passed == run else 'FAIL'} {passed}/{run}",
                                      f"{row['date']} ({row['seconds']} s)"]) + " |")
    return "\n".join(out)


def readme_with_table(text: str, table: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["record"] and len(argv) == 6:
        record(argv[1], argv[2], argv[3], Path(argv[4]), argv[5])
        return 0
    if argv == ["readme"]:
        text = README.read_text(encoding="utf-8")
        if BEGIN not in text:
            print(f"{README}: no {BEGIN} marker", file=sys.stderr)
            return 2
        tmp = README.with_name(".README.md.tmp")
        tmp.write_text(readme_with_table(text, render(read_rows())), encoding="utf-8")
        os.replace(tmp, README)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
