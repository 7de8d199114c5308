"""This CPU's measured fp32 matmul peak (GFLOP/s) at 1 and 2 threads: the yardstick for "fraction of peak".

A square fp32 matmul is as close to the FMA units' limit as library code gets, so the best of a few
repetitions with TensorFlow (Eigen/oneDNN, what our training steps use) and with numpy's BLAS is
taken as the peak.  Each thread count runs in a fresh child process, because both libraries fix their
thread pools at start-up.  Used by bench/elmo_train.py and bench/bert_train.py in the same run.

    .venv/bin/python bench/cpu_peak.py [--threads 1 2] [--size 2048]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _best_gflops(fn, flop: float, repeats: int) -> float:
    fn()  # warm-up: thread pools, page faults, kernel selection
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return flop / best / 1e9


def _worker(threads: int, size: int, repeats: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    flop = 2.0 * size ** 3
    numpy_rate = _best_gflops(lambda: a @ b, flop, repeats)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    ta, tb = tf.constant(a), tf.constant(b)
    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    tf_rate = _best_gflops(lambda: matmul(ta, tb).numpy(), flop, repeats)
    return {"threads": threads, "numpy_gflops": numpy_rate, "tf_gflops": tf_rate,
            "peak_gflops": max(numpy_rate, tf_rate)}


def measure(threads: int, size: int = 2048, repeats: int = 5) -> dict:
    """Peak at `threads` threads, measured in a child process."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, __file__, "--worker", str(threads), "--size", str(size),
                           "--repeats", str(repeats)], capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"cpu_peak worker ({threads} threads) failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    parser.add_argument("--size", type=int, default=2048, help="matrix side (default 2048)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions, best kept (default 5)")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(_worker(args.worker, args.size, args.repeats)))
        return 0
    print(f"load average {open('/proc/loadavg').read().split()[0]}")
    for n in args.threads:
        r = measure(n, args.size, args.repeats)
        print(f"{n} thread(s): peak {r['peak_gflops']:.1f} GFLOP/s (numpy {r['numpy_gflops']:.1f}, "
              f"TensorFlow {r['tf_gflops']:.1f}; fp32 matmul {args.size}^3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
