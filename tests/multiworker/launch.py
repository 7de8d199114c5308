"""Start `norlm bert-train` as 1 process or 2 ranks (mpirun / horovodrun --gloo: Horovod; tf_launch.py with
TF_CONFIG: tf-distribute) on the test layouts."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.conftest import REPO, horovodrun_gloo_cmd, mpirun_cmd, norlm_env
from tests.multiworker.records import PRED, SEQ

B = 4  # per-rank micro-batch
ACCUM = 2  # micro-batches per update: the test also covers accumulation + allreduce order
STEPS = 16
SAVE_EVERY = 4


def train_args(input_dir: Path, out_dir: Path, vocab: Path, model: Path, batch: int, *extra: str) -> list[str]:
    return ["bert-train", "--config", "smoke", "--phase", "1", "--input-dir", str(input_dir),
            "--output-dir", str(out_dir), "--vocab", str(vocab), f"bert.model_config={model}",
            f"bert_data.phase1.max_seq_length={SEQ}", f"bert_data.phase1.max_predictions_per_seq={PRED}",
            "bert.shuffle_buffer=1", f"bert.phase1.train_batch_size={batch}",
            f"bert.phase1.accumulation_steps={ACCUM}", f"bert.phase1.train_steps={STEPS}",
            "bert.phase1.warmup_steps=2", "bert.phase1.learning_rate=0.005",
            f"bert.save_checkpoints_steps={SAVE_EVERY}", "bert.keep_checkpoints=10",
            "bert.display_loss_steps=1", "bert.console_steps=4", *extra]


TF_LAUNCH = str(Path(__file__).with_name("tf_launch.py"))


def command(launcher: str, args: list[str]) -> list[str]:
    """launcher: 'single', 'mpi' (mpirun, Horovod's MPI controller), 'gloo' (horovodrun --gloo) or 'tf'
    (2 workers with TF_CONFIG: the tf-distribute engine)."""
    if launcher == "tf":
        return [sys.executable, TF_LAUNCH, "2", sys.executable, "-m", "norlm", *args]
    prefix = {"single": [], "mpi": mpirun_cmd(2), "gloo": horovodrun_gloo_cmd(2)}[launcher]
    return prefix + [sys.executable, "-m", "norlm", *args]


def env(work: Path) -> dict[str, str]:
    # one intra-op thread per rank: 2 ranks on 2 cores; MPI ranks yield instead of busy-polling while they
    # wait (busy-polling halves throughput on shared cores, bench/RESULTS.md); mpirun passes OMPI_MCA_* on
    return norlm_env(work, PYTHONPATH=str(REPO / "src"), TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1",
                     OMPI_MCA_mpi_yield_when_idle="1")


def start(launcher: str, args: list[str], work: Path) -> subprocess.Popen:
    return subprocess.Popen(command(launcher, args), cwd=REPO, env=env(work), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def run(launcher: str, args: list[str], work: Path, timeout: float = 300) -> str:
    proc = start(launcher, args, work)
    try:
        out = proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        stop_tree(proc)
        raise
    assert proc.returncode == 0, f"{launcher} run exited {proc.returncode}\n{out[-5000:]}"
    return out


def stop_tree(proc: subprocess.Popen) -> None:
    """Kill a launcher we started and every process below it (used only when a test times out)."""
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]
    except psutil.NoSuchProcess:
        return
    for p in family:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    proc.wait(timeout=30)


def rank_process(proc: subprocess.Popen, rank: int):
    """The Python process of `rank` under a launcher we started (found by its launcher environment)."""
    import psutil

    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            environ, cmdline = child.environ(), " ".join(child.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "norlm" in cmdline and "python" in cmdline and not cmdline.startswith(("/bin/sh", "bash")) and str(rank) in (
                environ.get("OMPI_COMM_WORLD_RANK"), environ.get("HOROVOD_RANK"), environ.get("NORLM_LAUNCH_RANK")):
            return child
    return None


def tensors(prefix: Path | str, part: str = "") -> dict[str, np.ndarray]:
    """Every saved tensor (or those whose key starts with `part`, e.g. 'model/') of a checkpoint."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(prefix))
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if k.startswith(part) and "save_counter" not in k and "_CHECKPOINTABLE_OBJECT_GRAPH" not in k}


def max_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    assert a.keys() == b.keys() and a
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)))) for k in a)
