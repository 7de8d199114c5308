"""Benchmark: `norlm bert-data` against Google's create_pretraining_data.py, side by side.

Input: every NDT Bokmål file of the bundled NorNE data as one document (one sentence per line,
tokens joined by spaces, a blank line after each file; ~20,000 sentences, 1.7 MB), written to a
temporary folder.  Vocabulary: the published NorBERT WordPiece file (cased).  Settings: phase 1
(seq 128, 20 predictions, masked_lm_prob 0.15, short_seq_prob 0.1), dupe factor 10, one process.

The reference script is not part of this repository.  Put google-research/bert's
`create_pretraining_data.py` and `tokenization.py` in a folder and pass it as --reference (default
~/.cache/norlm/reference); it runs under TensorFlow 2.18 through `tensorflow.compat.v1`.  Without
it the published anchor is printed instead, labelled as such.

Each run is a child process measured for wall time and peak RSS (`/usr/bin/time -v`, which also
counts the worker processes' peak).  Throughput is instances per second of wall time, start-up
included for both tools.  A second pair of runs splits the same text into 4 shards and compares
--workers 1 with --workers 2 (the 1-vs-2 worker speed-up).

    .venv/bin/python bench/pretraining_data.py [--reference DIR] [--repeat 3] [--append bench/RESULTS.md]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from norlm.corpus.samples import NORBERT_VOCAB, ndt_documents, write_shards  # noqa: E402

ANCHOR = {"wall_s": 16.3, "instances": 43641, "peak_rss_mb": 570.0}  # from issue 5, same machine class
PYTHON = sys.executable
# runs the reference unmodified: `import tensorflow as tf` inside it resolves to the compat.v1 API
REFERENCE_RUNNER = (
    "import runpy, sys; import tensorflow.compat.v1 as tf; sys.modules['tensorflow'] = tf; "
    "ref = sys.argv[1]; sys.path.insert(0, ref); sys.argv = ['create_pretraining_data.py'] + sys.argv[2:]; "
    "runpy.run_path(ref + '/create_pretraining_data.py', run_name='__main__')"
)


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Wall seconds and peak RSS (MB) of a command and its children."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env, cwd=REPO)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", proc.stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", proc.stderr)
    return {"wall_s": wall, "peak_rss_mb": int(rss.group(1)) / 1024 if rss else float("nan"),
            "cpu_s": float(user.group(1)) + float(system.group(1)) if user and system else float("nan"),
            "stdout": proc.stdout}


def _spin(seconds: float) -> int:
    start, x = time.process_time(), 0
    while time.process_time() - start < seconds:
        x += 1
    return x


def control_speedup(seconds: float = 1.0) -> float:
    """Wall-time speed-up of 2 vs 1 processes on pure CPU work: what this machine can give right now
    (on an idle 2-core machine ~2; with other jobs running, or CFS autogroup sharing, less)."""
    import multiprocessing as mp

    walls = []
    for workers in (1, 2):
        start = time.perf_counter()
        with mp.get_context("fork").Pool(workers) as pool:
            pool.map(_spin, [seconds, seconds])
        walls.append(time.perf_counter() - start)
    return walls[0] / walls[1]


def best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["wall_s"])


def run_ours(tmp: Path, corpus_glob: str, tokenizer: Path, workers: int, tag: str, repeat: int) -> dict:
    work = tmp / f"work-{tag}"
    cmd = [PYTHON, "-m", "norlm", "bert-data", "--config", "configs/demo.toml", "--phase", "1", "--force",
           "--workers", str(workers), f"run.work_dir={work}", f"bert_data.corpus_glob={corpus_glob}",
           f"bert_data.vocab={tokenizer}", "bert_data.files_per_shard=1", "bert_data.phase1.dupe_factor=10",
           "bert_data.phase1.max_seq_length=128", "bert_data.phase1.max_predictions_per_seq=20"]
    env = dict(os.environ, NORLM_WORK=str(work), PYTHONPATH=str(REPO / "src"))
    result = best([measure(cmd, env) for _ in range(repeat)])
    manifest = json.loads((work / "bert" / "tfrecords" / "phase1" / "manifest.json").read_text())
    result["instances"] = manifest["instances"]
    return result


def run_reference(tmp: Path, ref_dir: Path, text: Path, repeat: int) -> dict:
    from norlm.bert.data.tfrecord import count_records

    out = tmp / "reference.tfrecord"
    cmd = [PYTHON, "-c", REFERENCE_RUNNER, str(ref_dir), f"--input_file={text}", f"--output_file={out}",
           f"--vocab_file={NORBERT_VOCAB}", "--do_lower_case=False", "--max_seq_length=128",
           "--max_predictions_per_seq=20", "--masked_lm_prob=0.15", "--short_seq_prob=0.1", "--dupe_factor=10",
           "--random_seed=12345"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    result = best([measure(cmd, env) for _ in range(repeat)])
    result["instances"] = count_records(str(out))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", default=str(Path.home() / ".cache" / "norlm" / "reference"),
                        help="folder with google-research/bert create_pretraining_data.py + tokenization.py")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest counts")
    parser.add_argument("--append", default=None, help="append the results as a markdown section to this file")
    args = parser.parse_args()

    from norlm.vocab.tokenizer import build_tokenizer

    with tempfile.TemporaryDirectory(prefix="norlm-bench-") as tmp_name:
        tmp = Path(tmp_name)
        docs = ndt_documents()
        one = write_shards(docs, tmp / "one", 1, gz=False)[0]
        write_shards(docs, tmp / "four", 4, gz=False)
        tokenizer = tmp / "tokenizer.json"
        build_tokenizer(NORBERT_VOCAB).save(str(tokenizer))  # what the vocab stage hands over
        sentences = sum(len(d) for d in docs)
        size_mb = one.stat().st_size / 1e6
        print(f"input: {len(docs)} documents, {sentences} sentences, {size_mb:.2f} MB; phase 1, dupe 10")

        ref_dir = Path(args.reference).expanduser()
        if (ref_dir / "create_pretraining_data.py").exists() and (ref_dir / "tokenization.py").exists():
            ref = run_reference(tmp, ref_dir, one, args.repeat)
            ref_label = "google-research/bert create_pretraining_data.py (TF 2.18 compat.v1), measured"
        else:
            ref = dict(ANCHOR, cpu_s=float("nan"))
            ref_label = f"published anchor from issue 5 (reference not found in {ref_dir})"
        ours = run_ours(tmp, str(tmp / "one" / "*.txt"), tokenizer, 1, "one", args.repeat)
        four1 = run_ours(tmp, str(tmp / "four" / "*.txt"), tokenizer, 1, "four-w1", args.repeat)
        four2 = run_ours(tmp, str(tmp / "four" / "*.txt"), tokenizer, 2, "four-w2", args.repeat)
        control = control_speedup()

    def rate(r):
        return r["instances"] / r["wall_s"]

    rows = [("reference (1 process)", ref), ("norlm bert-data, 1 shard, 1 worker", ours),
            ("norlm bert-data, 4 shards, 1 worker", four1), ("norlm bert-data, 4 shards, 2 workers", four2)]
    lines = ["| run | instances | wall s | CPU s | instances/s | peak RSS MB |", "|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r['instances']} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {rate(r):.0f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    speed = rate(ours) / rate(ref)
    cpu_speed = (ours["instances"] / ours["cpu_s"]) / (ref["instances"] / ref["cpu_s"])
    memory = ours["peak_rss_mb"] / ref["peak_rss_mb"]
    scaling = rate(four2) / rate(four1)
    summary = [
        f"- speed per process vs reference: **{speed:.1f}x** instances per wall second (target >= 10x); "
        f"per CPU second (user + system, insensitive to other jobs on the machine): **{cpu_speed:.1f}x**",
        f"- peak memory vs reference: **{memory:.3f}** (1/{1 / memory:.1f}; target <= 1/5)",
        f"- 1 -> 2 workers (4 shards): **{scaling:.2f}x** (target >= 1.8x); control, 2 x 1 s of pure "
        f"CPU work with 1 vs 2 processes measured right after: {control:.2f}x",
        f"- reference: {ref_label}",
    ]
    table = "\n".join(lines + [""] + summary)
    print(table)
    if args.append:
        machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                   f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
                   f"{os.getloadavg()[0]:.1f} (other jobs running)")
        section = (f"\n## bert-data: pretraining TFRecords (bench/pretraining_data.py)\n\n"
                   f"Command: `.venv/bin/python bench/pretraining_data.py --repeat {args.repeat} "
                   f"--append {args.append}`  \nMachine: {machine}; input: NDT Bokmål, {len(docs)} documents, "
                   f"{sentences} sentences, {size_mb:.2f} MB; published NorBERT vocabulary; phase 1 (128/20), "
                   f"dupe factor 10; wall time includes interpreter start-up and imports for both tools; "
                   f"fastest of {args.repeat} run(s).\n\n{table}\n")
        with open(args.append, "a", encoding="utf-8") as fh:
            fh.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
