"""Benchmark: can the input pipelines feed a GPU?  Per-core rates of the two training inputs alone.

  BERT  norlm.bert.train.input.make_dataset: read, interleave, shuffle, batch and parse the pretraining
        TFRecords of one rank (files[rank::2]), at NorBERT-1's shapes 128/20 (batch 48 per rank) and
        512/77 (batch 8); sequences/s.  Records are synthetic (random ids, full-length masks), written
        with the project's own TFRecord writer, so the bytes per record are those of real training files.
  ELMo  norlm.elmo.data.BidirectionalBatches: the NorELMo30 batcher (192 rows x 20 steps per direction,
        50 characters, 30,003 words) over shards of real Norwegian Wikipedia text, as rank 0 of 1 and
        of 2 workers (a rank walks the whole global batch's streams); tokens/s (2 x rows x 20 per batch).

Each measurement runs in its own child process pinned to N cores (`taskset`), TensorFlow and
tf.data limited to N threads.  The named baseline is the demand of one GPU in `norlm plan`
(GH200 at its assumed figure: BERT ~2,465 seq/s at 128, ELMo ~39,000 tokens/s); the ratio printed
is what one core delivers against it.  Writes src/norlm/hpc/feed_rates.json (read by `norlm plan`)
and appends a section to bench/RESULTS.md.

Usage: nice -n 10 .venv/bin/python bench/input_pipeline.py [--cores 1 2] [--seconds 8] [--no-append]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

BERT_SHAPES = {128: (20, 48), 512: (77, 8)}  # seq -> (predictions, per-rank batch) of configs/norbert1.toml
VOCAB = 32922
FILES, RECORDS = 8, {128: 4000, 512: 1000}


def write_bert_files(folder: Path, seq: int) -> list[str]:
    """FILES synthetic pretraining files of one shape (the project's writer, real record sizes)."""
    from norlm.bert.data.tfrecord import records_bytes

    pred, _ = BERT_SHAPES[seq]
    rng = np.random.default_rng(seq)
    paths = []
    for i in range(FILES):
        n = RECORDS[seq]
        feats = {"input_ids": rng.integers(5, VOCAB, (n, seq)), "input_mask": np.ones((n, seq), np.int64),
                 "segment_ids": (np.arange(seq)[None, :] > rng.integers(8, seq - 8, (n, 1))).astype(np.int64),
                 "masked_lm_positions": np.sort(rng.integers(1, seq, (n, pred)), axis=1),
                 "masked_lm_ids": rng.integers(5, VOCAB, (n, pred)),
                 "masked_lm_weights": np.ones((n, pred), np.float32),
                 "next_sentence_labels": rng.integers(0, 2, (n, 1))}
        data, _ = records_bytes(feats)
        path = folder / f"seq{seq}-{i:02d}.tfrecord"
        path.write_bytes(data.tobytes())
        paths.append(str(path))
    return paths


def bert_worker(files: list[str], seq: int, cores: int, seconds: float) -> dict:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(cores)
    tf.config.threading.set_inter_op_parallelism_threads(cores)
    from norlm.bert.train.input import make_dataset

    pred, batch = BERT_SHAPES[seq]
    options = tf.data.Options()
    options.threading.private_threadpool_size = cores
    ds = make_dataset(files, batch, seq, pred, is_training=True, seed=1, rank=0, size=2).with_options(options)
    it = iter(ds)
    for _ in range(20):  # warm-up: threads, autotune
        next(it)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        next(it)
        n += 1
    return {"seq_per_s": n * batch / (time.perf_counter() - t0), "seq_per_cpu_s": n * batch / (time.process_time() - c0)}


def write_elmo_shards(folder: Path, n_shards: int = 4) -> tuple[list[Path], Path]:
    """Shards of real text (one sentence per line) and a 30,000-word vocab.txt counted from them."""
    with gzip.open(REPO / "data" / "wikipedia_sample" / "wikipedia_100k" / "wiki_no.txt.gz", "rt",
                   encoding="utf-8") as fh:
        lines = [line.strip() for line in fh if line.strip()]
    counts = Counter(w for line in lines for w in line.split())
    shards = []
    for i in range(n_shards):
        path = folder / f"shard{i}.txt"
        path.write_text("\n".join(lines[i::n_shards]) + "\n", encoding="utf-8")
        shards.append(path)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["<S>", "</S>", "<UNK>"] + [w for w, _ in counts.most_common(30000)]) + "\n",
                     encoding="utf-8")
    return shards, vocab


def elmo_worker(folder: str, world: int, seconds: float) -> dict:
    from norlm.elmo.data import BidirectionalBatches
    from norlm.elmo.vocabulary import WordIds, load_vocab

    shards = sorted(Path(folder).glob("shard*.txt"))
    vocab = WordIds(load_vocab(Path(folder) / "vocab.txt"))
    rows, steps = 192, 20
    batches = BidirectionalBatches(shards, vocab, rows * world, steps, seed=1, rows=range(0, rows))
    for _ in range(5):  # warm-up: the first shards load
        batches.next_batch()
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        batches.next_batch()
        n += 1
    tokens = n * 2 * rows * steps
    return {"tokens_per_s": tokens / (time.perf_counter() - t0), "tokens_per_cpu_s": tokens / (time.process_time() - c0)}


def run_child(args: list[str], cores: int) -> dict:
    cpus = ",".join(str(c) for c in range(cores))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS=str(cores), PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run(["taskset", "-c", cpus, sys.executable, __file__, "--worker", *args], capture_output=True,
                          text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def demands() -> dict[str, float]:
    """The named baseline: one GH200's demand at the plan's figures (NorBERT-1 phase 1 / 2, NorELMo30)."""
    from norlm.hpc.elmo_cost import ElmoSpec, config_flops_per_token, elmo_throughput_for
    from norlm.hpc.throughput import NORBERT1, flops_per_sequence, throughput_for

    gh = throughput_for("GH200", "fp32")
    return {"128": gh.at(128) * 1e12 / flops_per_sequence(**NORBERT1, seq_len=128, predictions=20),
            "512": gh.at(512) * 1e12 / flops_per_sequence(**NORBERT1, seq_len=512, predictions=77),
            "elmo": elmo_throughput_for("GH200").tflops * 1e12 / config_flops_per_token(ElmoSpec())}


def measure(cores: list[int], seconds: float) -> dict:
    """Each pipeline's result dicts: BERT per shape and core count, ELMo per worker count (one core)."""
    tmp = Path(tempfile.mkdtemp(prefix="input-bench-"))
    out: dict = {"bert": {}, "elmo": {}}
    for seq in BERT_SHAPES:
        files = write_bert_files(tmp, seq)
        out["bert"][str(seq)] = {n: run_child(["bert", str(seq), str(n), str(seconds), *files], n) for n in cores}
        print(f"bert seq {seq}: " + ", ".join(f"{n} core(s) {r['seq_per_s']:,.0f} seq/s wall, {r['seq_per_cpu_s']:,.0f} "
                                              f"per CPU-s" for n, r in out["bert"][str(seq)].items()), flush=True)
    write_elmo_shards(tmp)
    for world in (1, 2):
        r = out["elmo"][str(world)] = run_child(["elmo", str(tmp), str(world), str(seconds)], 1)
        print(f"elmo batcher, rank 0 of {world}: {r['tokens_per_s']:,.0f} tokens/s wall, {r['tokens_per_cpu_s']:,.0f} "
              "per CPU-s", flush=True)
    return out


def save(out: dict, cores: list[int], stamp: str) -> dict:
    """feed_rates.json: the rate per CPU-second of one pinned core (the machine is shared: wall time is not)."""
    from norlm.files import write_json

    one = min(cores)
    doc = {"version": 1, "basis": f"measured here (bench/input_pipeline.py, {stamp}, per CPU-second)",
           "machine": f"{os.cpu_count()}-core {platform.machine()} VM",
           "bert": {seq: {"seq_per_core_s": round(v[one]["seq_per_cpu_s"] / one, 1),
                          "wall_seq_s_by_cores": {str(n): round(r["seq_per_s"], 1) for n, r in v.items()}}
                    for seq, v in out["bert"].items()},
           "elmo": {w: {"tokens_per_core_s": round(r["tokens_per_cpu_s"], 1), "wall_tokens_s": round(r["tokens_per_s"], 1)}
                    for w, r in out["elmo"].items()}}
    write_json(REPO / "src" / "norlm" / "hpc" / "feed_rates.json", doc)
    return doc


def report(out: dict, cmd: str, stamp: str, loads: tuple[str, str]) -> str:
    need = demands()
    lines = ["", "## input pipelines against a GPU's demand (issue 29)", "",
             f"Command: `{cmd}` on {os.cpu_count()} CPU cores ({platform.machine()}), {stamp}; load average "
             f"{loads[0]} at the start, {loads[1]} at the end (the machine is shared, so the per-core figure is "
             "items per CPU-second of the process, all its threads; wall-time rates beside it). Each figure: one "
             "child process pinned with taskset to the stated cores, TensorFlow and tf.data limited to as many "
             "threads. Baseline: one GH200's demand at the plan's assumed figure (172.9 TFLOP/s BERT, 11.2 "
             "TFLOP/s ELMo).", "",
             "| pipeline | shape | cores | per CPU-second | wall rate | GH200 demand | per CPU-s / demand |",
             "|---|---|---|---|---|---|---|"]
    for seq, by in out["bert"].items():
        pred, batch = BERT_SHAPES[int(seq)]
        for n, r in by.items():
            lines.append(f"| BERT make_dataset (rank 0 of 2) | {seq}/{pred}, batch {batch} | {n} | "
                         f"{r['seq_per_cpu_s']:,.0f} seq | {r['seq_per_s']:,.0f} seq/s | {need[seq]:,.0f} seq/s | "
                         f"**{r['seq_per_cpu_s'] / need[seq]:.1f}x** |")
    for world, r in out["elmo"].items():
        lines.append(f"| ELMo BidirectionalBatches (rank 0 of {world}) | 192 x 20, 50 chars, 30,003 words | 1 | "
                     f"{r['tokens_per_cpu_s']:,.0f} tokens | {r['tokens_per_s']:,.0f} tokens/s | "
                     f"{need['elmo']:,.0f} tokens/s | **{r['tokens_per_cpu_s'] / need['elmo']:.1f}x** |")
    lines += ["", "`norlm plan` multiplies the BERT rate per core by the cores a profile gives each GPU; the ELMo "
              "batcher runs in the training loop's thread, so it gets one core whatever the profile gives.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2], help="core counts for BERT (default 1 2)")
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per measurement")
    parser.add_argument("--no-append", action="store_true", help="do not write feed_rates.json and RESULTS.md")
    parser.add_argument("--worker", nargs="+", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "bert":
            print(json.dumps(bert_worker(rest[3:], int(rest[0]), int(rest[1]), float(rest[2]))))
        else:
            print(json.dumps(elmo_worker(rest[0], int(rest[1]), float(rest[2]))))
        return 0
    load_start = open("/proc/loadavg").read().split()[0]
    out = measure(sorted(args.cores), args.seconds)
    loads = (load_start, open("/proc/loadavg").read().split()[0])
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cmd = f"nice -n 10 .venv/bin/python bench/input_pipeline.py --cores {' '.join(map(str, args.cores))} " \
          f"--seconds {args.seconds:g}"
    text = report(out, cmd, stamp, loads)
    print(text)
    if not args.no_append:
        save(out, sorted(args.cores), stamp)
        with open(REPO / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
