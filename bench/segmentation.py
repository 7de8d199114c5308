"""Sentence-boundary quality and speed of the corpus segmenters on UD 2.7 Norwegian test text.

Gold sentences (`# text =`) are joined in chunks of N (default 10) with a space, each chunk is split
by a segmenter, and predicted sentence ends are compared with gold ends inside the chunk (the chunk's
own end is not counted: every splitter gets it for free).  Throughput is MB of UTF-8 text per second
in one process (= per worker; the corpus stage runs one segmenter per worker).

Baseline, run side by side in the same process: a naive splitter (break after . ! ? followed by a
space and an upper-case letter or digit).  Stanza is measured only when its nb/nn tokenize models are
in STANZA_RESOURCES_DIR (there is no offline copy); otherwise it is reported as not measurable.

    .venv/bin/python bench/segmentation.py [--chunk 10] [--append bench/RESULTS.md]
"""
from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from norlm.corpus.segment import SegmenterError, make_segmenter  # noqa: E402

TREEBANKS = {
    "nb": REPO / "data/ud27/UD_Norwegian-Bokmaal/no_bokmaal-ud-test.conllu.gz",
    "nn": REPO / "data/ud27/UD_Norwegian-Nynorsk/no_nynorsk-ud-test.conllu.gz",
}
NAIVE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ0-9«\"])")


class NaiveSegmenter:
    name = "naive-regex"

    def split(self, paragraphs: list[str]) -> list[str]:
        return [s for p in paragraphs for s in NAIVE.split(p) if s.strip()]


def gold_sentences(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [line[len("# text = "):].strip() for line in fh if line.startswith("# text = ")]


def ends(text: str, sentences: list[str]) -> set[int]:
    """Character offsets where each sentence ends inside `text` (sentences found left to right)."""
    out, cursor = set(), 0
    for sentence in sentences:
        start = text.find(sentence, cursor)
        if start < 0:  # a segmenter that rewrites text; fall back to the next non-space character
            start = cursor
        cursor = start + len(sentence)
        out.add(cursor)
    return out


def evaluate(segmenter, sentences: list[str], chunk: int) -> dict:
    tp = fp = fn = 0
    seconds = 0.0
    nbytes = 0
    for i in range(0, len(sentences), chunk):
        gold = sentences[i:i + chunk]
        text = " ".join(gold)
        nbytes += len(text.encode("utf-8"))
        t0 = time.perf_counter()
        pred = segmenter.split([text])
        seconds += time.perf_counter() - t0
        g, p = ends(text, gold) - {len(text)}, ends(text, pred) - {len(text)}
        tp, fp, fn = tp + len(g & p), fp + len(p - g), fn + len(g - p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"p": precision, "r": recall, "f1": f1, "mb_s": nbytes / 1e6 / seconds if seconds else 0.0,
            "boundaries": tp + fn}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunk", type=int, default=10, help="gold sentences joined per chunk")
    parser.add_argument("--append", default=None, metavar="MD", help="append the results as a section to this file")
    args = parser.parse_args()
    rows, notes = [], []
    for lang, path in TREEBANKS.items():
        sentences = gold_sentences(path)
        segmenters = [("naive-regex (baseline)", NaiveSegmenter())]
        for name in ("punkt", "stanza"):
            try:
                segmenters.append((name, make_segmenter(name, lang)))
            except SegmenterError as exc:
                notes.append(f"{name} {lang}: not measurable here ({str(exc).splitlines()[0]})")
        base = None
        for name, seg in segmenters:
            r = evaluate(seg, sentences, args.chunk)
            base = base or r
            rows.append((lang, name, len(sentences), r["boundaries"], r["p"], r["r"], r["f1"], r["mb_s"],
                         r["f1"] / base["f1"], r["mb_s"] / base["mb_s"]))
    head = ("| lang | segmenter | sentences | boundaries | P | R | F1 | MB/s per worker | F1 vs baseline "
            "| speed vs baseline |")
    lines = [head, "|" + "---|" * 10]
    for lang, name, n, b, p, r, f1, mbs, rf1, rsp in rows:
        lines.append(f"| {lang} | {name} | {n} | {b} | {p:.3f} | {r:.3f} | {f1:.3f} | {mbs:.2f} | {rf1:.3f} "
                     f"| {rsp:.3f} |")
    report = "\n".join(lines + [""] + [f"- {n}" for n in notes])
    print(report)
    if args.append:
        cpu = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        section = (f"\n## corpus: sentence segmentation (bench/segmentation.py)\n\n"
                   f"Command: `.venv/bin/python bench/segmentation.py --chunk {args.chunk} --append {args.append}`  \n"
                   f"Machine: {cpu}; {time.strftime('%Y-%m-%d')}; UD 2.7 test sets, chunks of {args.chunk} gold "
                   f"sentences joined by a space, internal boundaries only; baseline = naive regex splitter, same "
                   f"process.\n\n{report}\n")
        with open(args.append, "a", encoding="utf-8") as fh:
            fh.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
