"""Speed of the one CoNLL reader (norlm.conll) on the corpus stage's CoNLL input: all bundled NDT files.

The corpus stage is the only stage that reads CoNLL at scale, so this decides whether the `conllu`
package is fast enough to be used there.  Three readers, each taking the FORM column of every
sentence of the same 431 NDT files (read from disk and gunzipped each time), in one process:

- baseline: the hand-written reader the corpus stage had before issue 31 (lines split on tabs, ids
  tested with str methods, FORM taken; no column count, no id order, no per-line byte checks);
- norlm.conll as the corpus stage runs it (corpus.inputs.read_lines, then conll.parse_lines with the
  CoNLL-X layout: conllu's id parser, every check of the one policy);
- conllu.parse_incr, the package's own whole-file parser (no line numbers, so not usable as is).

    .venv/bin/python bench/conll_reader.py [--repeat 3] [--append bench/RESULTS.md]
"""
from __future__ import annotations

import argparse
import gzip
import io
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import conllu  # noqa: E402

from norlm.conll import parse_lines  # noqa: E402
from norlm.corpus.inputs import Issues, read_lines  # noqa: E402

FILES = sorted((REPO / "data" / "norne" / "ndt").glob("*/*.conll.gz"))


def baseline(path: str) -> list[list[str]]:
    """The pre-issue-31 corpus NDT reader, reproduced as the baseline."""
    out, tokens = [], []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                if tokens:
                    out.append(tokens)
                tokens = []
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 2 or not cols[0].strip().replace(".", "").replace("-", "").isdigit():
                continue
            if "-" in cols[0] or "." in cols[0]:
                continue
            tokens.append(cols[1])
    if tokens:
        out.append(tokens)
    return out


def shared(path: str) -> list[list[str]]:
    issues = Issues(echo=False)
    lines = read_lines(path, issues, "utf-8", 1 << 20)
    return [s.column("form") for s in parse_lines(lines, path, "conllx", report=lambda line, what: None)]


def package(path: str) -> list[list[str]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    fields = ("id", "form", "lemma", "cpostag", "postag", "feats", "head", "deprel", "phead", "misc")
    return [[t["form"] for t in s] for s in conllu.parse_incr(io.StringIO(text), fields=fields)]


def timed(reader, repeat: int) -> tuple[float, int]:
    best, tokens = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        tokens = sum(len(s) for path in FILES for s in reader(str(path)))
        best = min(best, time.perf_counter() - t0)
    return best, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per reader")
    parser.add_argument("--append", default=None, help="append the result section to this markdown file")
    args = parser.parse_args()
    results = {name: timed(fn, args.repeat) for name, fn in
               (("baseline (hand-written)", baseline), ("norlm.conll (corpus path)", shared),
                ("conllu.parse_incr", package))}
    base_s, base_tokens = results["baseline (hand-written)"]
    mb = sum(os.path.getsize(p) for p in FILES) / 1e6
    rows = [f"| {name} | {tokens:,} | {s:.2f} | {base_s / s:.2f}x |" for name, (s, tokens) in results.items()]
    load = os.getloadavg()[0]
    text = "\n".join([
        f"## CoNLL reader speed (issue 31), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "", f"`.venv/bin/python bench/conll_reader.py --repeat {args.repeat}`; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average {load:.2f}; {len(FILES)} NDT files ({mb:.1f} MB gzip), best of "
        f"{args.repeat}, one process.", "",
        "| reader | tokens | seconds | speed vs baseline |", "|---|---|---|---|", *rows, ""])
    print(text)
    if any(tokens != base_tokens for _, tokens in results.values()):
        print("warning: the readers disagree on the token count", file=sys.stderr)
    if args.append:
        with open(args.append, "a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
