"""The paper's scale rehearsed on one machine: every CPU stage as a whole process at sizes spanning 100x.

For each size (MB of synthetic Norwegian-like text from bench/synth_corpus.py, the paper's mix of
NAK formats and Wikipedia dumps) and worker count, runs under `/usr/bin/time -v`:
  corpus (punkt, exact + near dedup) -> vocab (SentencePiece-BPE 30k on a uniform sample of
  vocab.max_lines lines) -> bert-data phase 1 (128/20/dupe 10) and phase 2 (512/77/dupe 6), the
  NorBERT-1 settings -> elmo-vocab (100k words)
and prints per stage and size: wall, CPU seconds (user + system), peak RSS, bytes written, the
log-log slope of CPU time and of peak RSS from the smallest to the largest size, and the speed-up
of 2 workers over 1.  A pure-CPU control (the same fixed work in 1 and in 2 processes at once)
shows what the machine allowed during the run: on a shared machine 2 workers cannot beat it.

Baseline: 1 worker at the same size (speed-up), and the smallest size (slopes; 1.0 = linear).
The per-core rates of the largest 1-worker run go to src/norlm/scale_rates.json (--write-rates),
which `norlm plan` and the stages' disk pre-flight checks read.

    nice -n 10 .venv/bin/python bench/scale.py --sizes 2,20,200 --workers-at-largest 2 \
        --out /tmp/scale [--write-rates] [--append bench/RESULTS.md]
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from norlm.files import write_json  # noqa: E402
from norlm.scale_rates import RATES_FILE  # noqa: E402

VOCAB_SAMPLE = 300_000  # vocab.max_lines: a uniform sample (~28 MB of text), below the largest size
PAPER_MB = 12_000
PHASES = {1: (128, 20, 10), 2: (512, 77, 6)}
STAGES = ("corpus", "vocab", "bert-data-phase1", "bert-data-phase2", "elmo-vocab")
CONFIG = """[run]
name = "scale"
seed = 1
workers = {workers}

[corpus]
# small shards, so that the middle size already writes full ones: a bert-data worker holds one shard
segmenter = "punkt"
shard_mb = 4.0

[vocab]
method = "spbpe"
size = 30000
max_lines = {sample}
reference_vocab = ""

[bert_data]
files_per_shard = 1
phase1 = {{ max_seq_length = 128, max_predictions_per_seq = 20, dupe_factor = 10 }}
phase2 = {{ max_seq_length = 512, max_predictions_per_seq = 77, dupe_factor = 6 }}

[elmo]
vocab_size = 100000

"""


def stage_argv(stage: str, workers: int) -> list[str]:
    return {"corpus": ["corpus", "--near-dedup", "--workers", str(workers)],
            "vocab": ["vocab"],
            "bert-data-phase1": ["bert-data", "--phase", "1", "--workers", str(workers)],
            "bert-data-phase2": ["bert-data", "--phase", "2", "--workers", str(workers)],
            "elmo-vocab": ["elmo-vocab", "--workers", str(workers)]}[stage]


def output_dir(work: Path, stage: str) -> Path:
    return {"corpus": work / "corpus", "vocab": work / "vocab", "elmo-vocab": work / "elmo",
            "bert-data-phase1": work / "bert" / "tfrecords" / "phase1",
            "bert-data-phase2": work / "bert" / "tfrecords" / "phase2"}[stage]


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def timed(argv: list[str], env: dict, log: Path) -> dict:
    """Run one stage under /usr/bin/time -v; wall, CPU seconds and peak RSS (any process of the tree)."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "norlm", *argv]
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
    text = log.read_text(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"scale: {' '.join(argv)} failed (exit {proc.returncode}); see {log}")
    fields = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(": ")
        fields[key] = value
    wall = fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
    return {"wall_s": round(sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall))), 2),
            "cpu_s": round(float(fields["User time (seconds)"]) + float(fields["System time (seconds)"]), 2),
            "peak_rss_mb": round(int(fields["Maximum resident set size (kbytes)"]) / 1024, 1)}


def corpus_text_bytes(corpus: Path) -> int:
    """Uncompressed bytes of the corpus shards (what vocab, bert-data and elmo-vocab read)."""
    total = 0
    for shard in corpus.glob("*.txt.gz"):
        with gzip.open(shard, "rb") as fh:
            while chunk := fh.read(1 << 22):
                total += len(chunk)
    return total


def run_size(mb: float, workers: int, out: Path, keep: bool, stages=STAGES, old: dict | None = None) -> dict:
    """Synthesise (once per size) and run the stages (all, or some again over `old`); the measurements."""
    from synth_corpus import generate

    src = out / f"in-{mb:g}"
    if not (src / "truth.json").is_file():
        t0 = time.perf_counter()
        generate(src, mb, seed=1, mix="paper", workers=1)
        print(f"scale: synthesised {mb:g} MB in {time.perf_counter() - t0:.1f} s", flush=True)
    truth = json.loads((src / "truth.json").read_text())
    work = out / f"work-{mb:g}-w{workers}"
    for stage in stages if old else ():  # measured again: their output goes, the rest stays
        shutil.rmtree(output_dir(work, stage), ignore_errors=True)
    if not old:
        shutil.rmtree(work, ignore_errors=True)
    cfg = out / f"scale-{mb:g}-w{workers}.toml"
    cfg.write_text(CONFIG.format(workers=workers, sample=VOCAB_SAMPLE) + (src / "corpus.toml").read_text())
    env = {**os.environ, "NORLM_WORK": str(work), "PYTHONPATH": str(REPO / "src")}
    result = {"mb": mb, "workers": workers, "text_bytes": truth["total"]["text_bytes"],
              "input_file_bytes": folder_bytes(src) - (src / "truth.json").stat().st_size,
              "load_average_at_start": round(os.getloadavg()[0], 2), "stages": {}}
    if old:
        result = {**old, "stages": dict(old["stages"]),
                  "stages_measured_again": sorted(set(old.get("stages_measured_again", [])) | set(stages))}
    for stage in stages:
        command, *options = stage_argv(stage, workers)
        m = timed([command, "--config", str(cfg), *options], env, out / f"log-{mb:g}-w{workers}-{stage}.txt")
        m["bytes_written"] = folder_bytes(output_dir(work, stage))
        if stage == "corpus":
            m["shard_bytes"] = sum(p.stat().st_size for p in (work / "corpus").glob("*.txt.gz"))
            result["corpus_text_bytes"] = corpus_text_bytes(work / "corpus")
            stats = json.loads((work / "corpus" / "stats.json").read_text())["total"]
            result["dedup"] = {"exact_found": stats["duplicates_within"] + stats["duplicates_across"],
                               "exact_injected": truth["total"]["exact_dups"],
                               "near_found": stats["near_duplicate_documents"],
                               "near_injected": truth["total"]["near_docs"]}
        if stage.startswith("bert-data"):
            manifest = json.loads((output_dir(work, stage) / "manifest.json").read_text())
            m["instances"] = manifest["instances"]
            if not keep:
                for f in output_dir(work, stage).glob("*.tfrecord"):
                    f.unlink()
        result["stages"][stage] = m
        print(f"scale: {mb:g} MB, {workers} worker(s), {stage}: {m}", flush=True)
    if not keep:
        shutil.rmtree(work / "corpus" / "parts", ignore_errors=True)
    return result


def _burn(n: int) -> float:
    """Fixed pure-Python CPU work (the control)."""
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x = (x * 31 + i) % 1_000_003
    return time.perf_counter() - t0


def control(n: int = 20_000_000) -> dict:
    """The same work in 1 process, then in 2 at once: the speed-up this machine allowed just now."""
    one = _burn(n)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        t0 = time.perf_counter()
        pool.map(_burn, [n, n])
        two = time.perf_counter() - t0
    return {"one_s": round(one, 2), "two_at_once_s": round(two, 2), "speedup": round(2 * one / two, 2)}


def slope(a: float, b: float, size_a: float, size_b: float) -> float:
    if a <= 0 or b <= 0 or size_a == size_b:
        return float("nan")
    return round(math.log(b / a) / math.log(size_b / size_a), 3)


def summarise(runs: list[dict]) -> dict:
    """Slopes (1 worker, smallest -> largest, and middle -> largest for memory) and speed-ups."""
    ones = sorted((r for r in runs if r["workers"] == 1), key=lambda r: r["mb"])
    small, mid, large = ones[0], ones[len(ones) // 2], ones[-1]
    out = {}
    for stage in STAGES:
        s, m, la = (r["stages"][stage] for r in (small, mid, large))
        row = {"time_slope": slope(s["cpu_s"], la["cpu_s"], small["mb"], large["mb"]),
               "time_slope_middle_to_largest": slope(m["cpu_s"], la["cpu_s"], mid["mb"], large["mb"]),
               "memory_slope": slope(s["peak_rss_mb"], la["peak_rss_mb"], small["mb"], large["mb"]),
               "peak_large_over_middle": round(la["peak_rss_mb"] / m["peak_rss_mb"], 2)}
        two = sorted((r for r in runs if r["workers"] == 2), key=lambda r: r["mb"])
        if two:  # at the largest size run with 2 workers too
            one = next(r for r in ones if r["mb"] == two[-1]["mb"])["stages"][stage]
            row["speedup_2_workers"] = round(one["wall_s"] / two[-1]["stages"][stage]["wall_s"], 2)
            row["cpu_2_workers_over_1"] = round(two[-1]["stages"][stage]["cpu_s"] / one["cpu_s"], 3)
            row["speedup_measured_at_mb"] = two[-1]["mb"]
        out[stage] = row
    return out


def print_table(runs: list[dict], summary: dict) -> list[str]:
    lines = ["| stage | size MB | workers | wall s | CPU s | peak RSS MB | written MB | MB text per CPU s |",
             "|---|---|---|---|---|---|---|---|"]
    for stage in STAGES:
        for r in sorted(runs, key=lambda r: (r["mb"], r["workers"])):
            m = r["stages"][stage]
            basis = r["text_bytes"] if stage == "corpus" else r["corpus_text_bytes"]
            lines.append(f"| {stage} | {r['mb']:g} | {r['workers']} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | "
                         f"{m['peak_rss_mb']:.0f} | {m['bytes_written'] / 1e6:.1f} | {basis / 1e6 / m['cpu_s']:.2f} |")
    lines += ["", "| stage | CPU-time slope smallest -> largest | middle -> largest | peak-RSS slope | "
              "peak largest / middle | 2 workers vs 1 (wall) | CPU s 2 workers / 1 |", "|---|---|---|---|---|---|---|"]
    for stage, row in summary.items():
        lines.append(f"| {stage} | {row['time_slope']} | {row['time_slope_middle_to_largest']} | "
                     f"{row['memory_slope']} | {row['peak_large_over_middle']} | {row.get('speedup_2_workers', '-')} | "
                     f"{row.get('cpu_2_workers_over_1', '-')} |")
    print("\n".join(lines), flush=True)
    return lines


def _per_tenfold(ratio: float, mid_mb: float, large_mb: float) -> str:
    """Peak-RSS growth per 10x input (what `norlm plan` extrapolates with), from the middle to the largest."""
    per_ten = ratio ** (1 / math.log10(large_mb / mid_mb)) if large_mb > mid_mb else 1.0
    return f"{per_ten:.2f}x for 10x input ({ratio}x from {mid_mb:g} to {large_mb:g} MB)"


def rates(runs: list[dict], summary: dict, ctrl: dict, segmentation: dict | None = None) -> dict:
    """The rates file: the largest 1-worker run's per-core rates, with their basis and the slopes."""
    large = max((r for r in runs if r["workers"] == 1), key=lambda r: r["mb"])
    sizes = sorted({r["mb"] for r in runs})
    mid_mb = sorted(r["mb"] for r in runs if r["workers"] == 1)[len(sizes) // 2]
    basis = f"measured here at {large['mb']:g} MB of text (1/{PAPER_MB / large['mb']:.0f} of the paper's 12 GB)"
    stages = {}
    for stage in STAGES:
        m = large["stages"][stage]
        text = large["text_bytes"] if stage == "corpus" else large["corpus_text_bytes"]
        row = {"mb_per_cpu_s": round(text / 1e6 / m["cpu_s"], 3), "peak_rss_mb": m["peak_rss_mb"],
               "out_bytes_per_in_byte": round(m["bytes_written"] / text, 3), "basis": basis,
               "memory_grows": _per_tenfold(summary[stage]["peak_large_over_middle"], mid_mb, large["mb"]),
               **summary[stage]}
        if stage.startswith("bert-data"):
            seq, pred, dupe = PHASES[int(stage[-1])]
            row.update(dupe_factor=dupe, max_seq_length=seq, max_predictions_per_seq=pred,
                       instances_per_cpu_s=round(m["instances"] / m["cpu_s"], 1))
        if stage == "corpus":  # out_bytes_per_in_byte counts the parts too: they stay on disk for resume
            row.update(segmenter="punkt", shard_bytes_per_in_byte=round(m["shard_bytes"] / text, 3),
                       scratch_bytes_per_in_byte=round((m["bytes_written"] - m["shard_bytes"]) / text, 3),
                       input_file_bytes_per_text_byte=round(large["input_file_bytes"] / text, 3))
            if segmentation:
                row["segmentation"] = segmentation
        if stage == "vocab":
            row["sample_lines"] = VOCAB_SAMPLE
        stages[stage] = row
    return {"version": 2, "basis": basis,
            "note": ("bench/scale.py: synthetic Norwegian-like text (bench/synth_corpus.py, the paper's mix), "
                     f"sizes {', '.join(f'{s:g}' for s in sizes)} MB, 1 worker, punkt, NorBERT-1 bert-data settings, "
                     f"vocab on a uniform sample of {VOCAB_SAMPLE:,} lines, elmo-vocab 100k; CPU seconds and peak RSS "
                     f"from /usr/bin/time -v on a {os.cpu_count()}-core VM (load averages in bench/RESULTS.md). mb_per_cpu_s is MB of text "
                     "(corpus: raw text; later stages: the corpus shards' text) per CPU second."),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores", "input_mb": large["mb"],
            "sizes_mb": sizes, "control": ctrl, "stages": stages}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="2,20,200", help="MB of text, comma-separated (span >= 100x)")
    ap.add_argument("--workers-at-largest", type=int, default=2, help="also run the largest size with N workers")
    ap.add_argument("--out", type=Path, default=Path("/tmp/norlm-scale"))
    ap.add_argument("--only", default=None,
                    help="run only these sizes now, '' for none (the others from OUT/results.json)")
    ap.add_argument("--stages", default=",".join(STAGES),
                    help="measure only these stages again (over OUT/results.json; their output is rebuilt)")
    ap.add_argument("--keep", action="store_true", help="keep TFRecords and corpus parts (disk!)")
    ap.add_argument("--write-rates", action="store_true", help=f"write {RATES_FILE.relative_to(REPO)}")
    ap.add_argument("--append", type=Path, default=None, help="append the result section to this Markdown file")
    ap.add_argument("--segmentation", type=Path, default=None,
                    help="JSON of bench/stanza_segmenter.py --json (sentences per CPU s), kept with the corpus rate")
    args = ap.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",")]
    unknown = set(args.stages.split(",")) - set(STAGES)
    if unknown:
        ap.error(f"--stages: unknown {', '.join(sorted(unknown))} (known: {', '.join(STAGES)})")
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "results.json"
    runs = json.loads(saved.read_text())["runs"] if saved.is_file() else []
    if args.only is None:
        todo = sizes
    else:  # "" = none: summarise (and write the rates of) the runs already in OUT/results.json
        todo = [float(x) for x in args.only.split(",") if x]
    load_before = os.getloadavg()
    ctrl = control()
    for mb in todo:
        for workers in ([1, args.workers_at_largest] if mb == max(sizes) and args.workers_at_largest > 1 else [1]):
            old = next((r for r in runs if (r["mb"], r["workers"]) == (mb, workers)), None)
            stages = tuple(x for x in args.stages.split(",") if x)
            again = old if old is not None and set(stages) != set(STAGES) else None
            if again is None and set(stages) != set(STAGES):
                raise SystemExit(f"scale: --stages needs an earlier run of {mb:g} MB, {workers} worker(s) in {saved}")
            runs = [r for r in runs if (r["mb"], r["workers"]) != (mb, workers)]
            runs.append(run_size(mb, workers, args.out, args.keep, stages, again))
            write_json(saved, {"runs": runs})
    ctrl_after = control()
    runs = [r for r in runs if r["mb"] in sizes]
    summary = summarise(runs)
    lines = print_table(runs, summary)
    ctrl = {"before": ctrl, "after": ctrl_after}
    print(f"control (pure CPU, 2 processes at once vs 1): {ctrl}; load average {load_before} -> {os.getloadavg()}")
    if args.write_rates:
        seg = json.loads(args.segmentation.read_text()) if args.segmentation else None
        write_json(RATES_FILE, rates(runs, summary, ctrl, seg))
        print(f"wrote {RATES_FILE}")
    if args.append:
        _append(args.append, lines, runs, ctrl, load_before, " ".join(sys.argv))
    return 0


def _append(path: Path, lines: list[str], runs: list[dict], ctrl: dict, load, command: str) -> None:
    dedup = [f"{r['mb']:g} MB: exact {r['dedup']['exact_found']}/{r['dedup']['exact_injected']}, near "
             f"{r['dedup']['near_found']}/{r['dedup']['near_injected']}" for r in runs if r["workers"] == 1]
    with open(path, "a", encoding="utf-8") as fh:
        sizes = ", ".join(f"{mb:g}" for mb in sorted({r["mb"] for r in runs}))
        fh.write(f"\n## bench/scale.py: the CPU stages at {sizes} MB "
                 f"({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)\n\n`{command}` on {platform.machine()}, "
                 f"{os.cpu_count()} cores, load average {load[0]:.1f} at the start; "
                 f"pure-CPU control, 2 processes vs 1: {ctrl}.\n\n" + "\n".join(lines)
                 + "\n\nDedup found / injected (1 worker): " + "; ".join(dedup) + "\n")


if __name__ == "__main__":
    sys.exit(main())
