"""Benchmark: 1 -> 2 worker weak scaling of BERT pretraining throughput on CPU (`norlm bert-train`).

Weak scaling: every rank keeps the same micro-batch, so 2 workers process twice the global batch per
update; efficiency = throughput(2 workers) / (2 x throughput(1 worker)).  All runs use the real CLI,
one after the other in this process tree: the baseline as a plain process, then 2 workers under each
engine side by side: Horovod (`mpirun -np 2`, MPI controller) and tf-distribute (2 processes with a
TF_CONFIG each: MultiWorkerMirroredStrategy, ring collectives).  Each rank is pinned to its own core
(sched_setaffinity) and gets 1 intra-op and 1 inter-op thread in every run, so 2 ranks on 2 cores is a
fair comparison with 1 rank on 1 core.  Throughput is the trainer's steady-state value from final.json
(global batch / mean update time after the first 6 updates).  `--launcher mpi-yield` adds
`-mca mpi_yield_when_idle 1` (see bench/RESULTS.md).  Without Horovod (the TF-line venvs) only
tf-distribute runs.

    .venv/bin/python bench/bert_scaling.py                # tiny and larger config, both engines
    .venv/bin/python bench/bert_scaling.py --configs tiny --steps 30 --engines tf-distribute
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
SEQ, PRED, VOCAB = 128, 20, 2000
SHAPES = {  # name: (layers, hidden, heads, intermediate, per-rank micro-batch, updates)
    "tiny": (2, 64, 2, 256, 16, 40),
    "larger": (4, 256, 4, 1024, 8, 20),
}
# pin each rank (and the single process) to one core, whatever thread pools TF and tf.data start
PINNED = ("import os, sys; r = int(os.environ.get('OMPI_COMM_WORLD_LOCAL_RANK') "
          "or os.environ.get('HOROVOD_LOCAL_RANK') or os.environ.get('BENCH_CORE') or 0); "
          "os.sched_setaffinity(0, {r % os.cpu_count()}); "
          "os.execv(sys.executable, [sys.executable, '-m', 'norlm', *sys.argv[1:]])")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", "--bind-to", "none", "-mca", "btl",
          "self,tcp", "-mca", "btl_tcp_if_include", "lo", "-x", "PATH", "-x", "PYTHONPATH", "-x",
          "TF_CPP_MIN_LOG_LEVEL", "-x", "TF_NUM_INTRAOP_THREADS", "-x", "TF_NUM_INTEROP_THREADS", "-x",
          "OMP_NUM_THREADS", "-x", "NORLM_WORK"]


def write_data(root: Path, n: int = 512) -> tuple[Path, Path]:
    """A vocab.txt and 2 TFRecord files of random instances (one file per rank)."""
    import tensorflow as tf

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(VOCAB - 5)]
    vocab = root / "vocab.txt"
    vocab.write_text("".join(w + "\n" for w in words))
    data = root / "tfrecords"
    data.mkdir()
    rng = np.random.default_rng(0)
    writers = [tf.io.TFRecordWriter(str(data / f"{i:04d}.tfrecord")) for i in range(2)]
    for i in range(n):
        ids = rng.integers(5, VOCAB, SEQ)
        feats = {"input_ids": ids, "input_mask": np.ones(SEQ, np.int64), "segment_ids": (np.arange(SEQ) >= SEQ // 2),
                 "masked_lm_positions": np.sort(rng.choice(np.arange(1, SEQ), PRED, replace=False)),
                 "masked_lm_ids": rng.integers(5, VOCAB, PRED), "next_sentence_labels": [int(rng.integers(2))]}
        feature = {k: tf.train.Feature(int64_list=tf.train.Int64List(value=np.asarray(v, np.int64).tolist()))
                   for k, v in feats.items()}
        feature["masked_lm_weights"] = tf.train.Feature(float_list=tf.train.FloatList(value=[1.0] * PRED))
        writers[i % 2].write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    for w in writers:
        w.close()
    return vocab, data


def launcher_cmd(launcher: str) -> list[str]:
    if launcher == "gloo":
        return [str(Path(sys.executable).parent / "horovodrun"), "--gloo", "-np", "2", "-H", "localhost:2"]
    if launcher == "mpi-yield":  # MPI ranks sleep instead of busy-polling while they wait for each other
        return MPIRUN[:1] + ["-mca", "mpi_yield_when_idle", "1"] + MPIRUN[1:]
    return MPIRUN


def tf_distribute(cmd: list[str], env: dict[str, str], n: int = 2) -> subprocess.CompletedProcess:
    """n copies of cmd, each with a TF_CONFIG naming all n on free loopback ports; worker 0's output."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    workers = [f"localhost:{s.getsockname()[1]}" for s in socks]
    for s in socks:
        s.close()
    logs = [tempfile.TemporaryFile("w+") for _ in range(n)]  # files, not pipes: no worker blocks on output
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=logs[i], stderr=subprocess.STDOUT, text=True,
                              env=dict(env, BENCH_CORE=str(i), NORLM_ENGINE="tf-distribute", TF_CONFIG=json.dumps(
                                  {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})))
             for i in range(n)]
    code = next((c for c in [p.wait() for p in procs] if c), 0)
    outs = []
    for log in logs:
        log.seek(0)
        outs.append(log.read())
        log.close()
    return subprocess.CompletedProcess(cmd, code, outs[0], "\n".join(o[-3000:] for o in outs))


def run(workers: int, name: str, root: Path, vocab: Path, data: Path, launcher: str = "mpi",
        engine: str = "horovod") -> dict:
    layers, hidden, heads, inter, batch, steps = SHAPES[name]
    model = root / f"{name}.json"
    model.write_text(json.dumps({"attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
                                 "hidden_size": hidden, "initializer_range": 0.02, "intermediate_size": inter,
                                 "max_position_embeddings": 512, "num_attention_heads": heads,
                                 "num_hidden_layers": layers, "type_vocab_size": 2, "vocab_size": 0}))
    out = root / f"{name}-{workers}w-{engine}-{launcher}"
    cmd = [sys.executable, "-c", PINNED, "bert-train", "--config", "smoke", "--input-dir", str(data),
           "--output-dir", str(out), "--vocab", str(vocab), f"bert.model_config={model}",
           f"bert_data.phase1.max_seq_length={SEQ}", f"bert_data.phase1.max_predictions_per_seq={PRED}",
           f"bert.phase1.train_batch_size={batch}", f"bert.phase1.train_steps={steps}",
           "bert.save_checkpoints_steps=100000", "bert.console_steps=10", "bert.display_loss_steps=10"]
    if workers == 2 and engine == "horovod":
        cmd = launcher_cmd(launcher) + cmd
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), NORLM_WORK=str(root / "work"), TF_CPP_MIN_LOG_LEVEL="2",
               TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1", OMP_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    t0 = time.time()
    if workers == 2 and engine == "tf-distribute":
        proc = tf_distribute(cmd, env)
    else:
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{name} with {workers} worker(s) failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    final = json.loads((out / "final.json").read_text())
    return {"config": name, "workers": workers, "global_batch": final["global_batch"],
            "seq_s": final["steady_throughput_seq_s"], "wall_s": round(time.time() - t0, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--steps", type=int, default=None, help="updates per run (default per config)")
    parser.add_argument("--engines", nargs="+", default=["horovod", "tf-distribute"],
                        choices=("horovod", "tf-distribute"), help="2-worker engines, run one after the other")
    parser.add_argument("--launcher", choices=("mpi", "mpi-yield", "gloo"), default="mpi",
                        help="Horovod's 2-worker launcher: mpirun (MPI controller, default), mpirun with "
                             "mpi_yield_when_idle, or horovodrun --gloo")
    args = parser.parse_args()
    engines = [e for e in args.engines if e != "horovod" or importlib.util.find_spec("horovod")]
    if engines != args.engines:
        print("Horovod is not installed here: tf-distribute only", flush=True)
    if args.steps:
        for k, v in SHAPES.items():
            SHAPES[k] = (*v[:5], args.steps)
    import tensorflow as tf

    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; TF {tf.__version__}; 1 core + 1 intra-op thread per rank; seq {SEQ}, "
          f"fp32; 2 workers via {', '.join(e + (f' ({args.launcher})' if e == 'horovod' else '') for e in engines)}",
          flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bert-scaling-") as tmp:
        root = Path(tmp)
        vocab, data = write_data(root)
        for name in args.configs:
            one = run(1, name, root, vocab, data)
            layers, hidden, heads, inter, batch, steps = SHAPES[name]
            for engine in engines:
                two = run(2, name, root, vocab, data, args.launcher, engine)
                eff = two["seq_s"] / (2 * one["seq_s"])
                rows.append((name, f"{layers}L H{hidden} I{inter}", batch, steps, engine, one["seq_s"], two["seq_s"],
                             eff))
                print(f"{name}: 1 worker {one['seq_s']:.1f} seq/s, 2 workers ({engine}) {two['seq_s']:.1f} seq/s "
                      f"(global batch {one['global_batch']} -> {two['global_batch']}); weak-scaling efficiency "
                      f"{eff:.2f} (ratio 2w/1w {two['seq_s'] / one['seq_s']:.2f}x); load {os.getloadavg()[0]:.1f}",
                      flush=True)
    print("\n| config | shape | batch/rank | updates | engine | 1 worker seq/s | 2 workers seq/s | efficiency |")
    print("|---|---|---|---|---|---|---|---|")
    for name, shape, batch, steps, engine, a, b, eff in rows:
        print(f"| {name} | {shape} | {batch} | {steps} | {engine} | {a:.1f} | {b:.1f} | {eff:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
