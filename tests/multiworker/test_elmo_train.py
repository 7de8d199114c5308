"""elmo-train on 2 workers equals 1 process with the doubled batch, under tf-distribute and Horovod.

fp32 on CPU, dropout off (its masks are drawn per rank).  The 2 workers x batch B walk the same global
streams as 1 process x batch 2B (each builds its half of the rows) and share the step's negatives, so the
per-step losses, the final weights and Adagrad accumulators, and the carried LSTM states agree.  The
tf-distribute job runs under plain TF_CONFIG (tf_launch.py) and under `srun -n 2` on the local Slurm test
cluster (SlurmClusterResolver); the Horovod job under mpirun.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from norlm.dllogger import read_dllog, training_points
from tests.conftest import REPO, run_norlm
from tests.elmo.conftest import write_shards
from tests.hpc.conftest import slurm  # noqa: F401  (the session's local Slurm cluster)
from tests.multiworker import launch
from tests.multiworker.launch import max_diff

pytestmark = pytest.mark.slow

B = 4  # rows per worker; the single process gets 2 * B
STEPS = 12
SAVE_EVERY = 6


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mw-elmo")
    write_shards(root / "corpus", docs_per_shard=400)
    run_norlm("elmo-vocab", "--config", "configs/smoke.toml", work=root)
    return root


def _args(out: Path, batch: int) -> list[str]:
    return ["elmo-train", "--config", "configs/smoke.toml", "--no-progress", "--out", str(out),
            f"elmo.batch_size={batch}", f"elmo.max_steps={STEPS}", f"elmo.save_every={SAVE_EVERY}",
            "elmo.log_every=1", "elmo.dropout=0", "elmo.heldout_sentences=0", "elmo.keep_checkpoints=3"]


@pytest.fixture(scope="module")
def single_run(work) -> Path:
    out = work / "single"
    launch.run("single", _args(out, 2 * B), work)
    return out


@pytest.fixture(scope="module")
def tf_run(work) -> Path:
    out = work / "tf"
    log = launch.run("tf", _args(out, B), work)
    assert "[tf_launch] worker 0 exit code 0" in log and "[tf_launch] worker 1 exit code 0" in log
    return out


@pytest.fixture(scope="module")
def mpi_run(work) -> Path:
    out = work / "mpi"
    launch.run("mpi", _args(out, B), work)
    return out


def _losses(out: Path) -> list[float]:
    points = {p["step"]: p["data"]["loss"] for p in training_points(read_dllog(out / "dllog.json"))}
    assert sorted(points) == list(range(1, STEPS + 1))  # rank 0 alone logs, every step once
    return [points[s] for s in sorted(points)]


def _weights(out: Path, step: int = STEPS, slots: bool = False) -> dict[str, np.ndarray]:
    """The model weights (or, with slots, the Adagrad accumulators and the global step) of a checkpoint."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(out / "ckpt" / f"ckpt-{step}"))
    keys = [k for k in reader.get_variable_to_shape_map() if k.endswith("VARIABLE_VALUE")]
    return {k: reader.get_tensor(k) for k in keys if (k.startswith("lm.") and "Adagrad" not in k) != slots}


def _check_slots(a: Path, b: Path) -> None:
    """Accumulators grow to ~65 here, so they are compared relatively (float32 rounding: ~5e-7 measured)."""
    sa, sb = _weights(a, slots=True), _weights(b, slots=True)
    assert sa.keys() == sb.keys() and len(sa) > 20 and "global_step/.ATTRIBUTES/VARIABLE_VALUE" in sa
    for k in sa:
        np.testing.assert_allclose(sa[k], sb[k], rtol=1e-5, atol=0, err_msg=k)


def _carried(out: Path, ranks: int) -> tuple[dict[str, np.ndarray], list[str]]:
    """The carried LSTM states of all ranks stacked in rank order (= global rows), and each rank's data state."""
    parts = [np.load(out / "ckpt" / f"ckpt-{STEPS}.rank{r}.npz") for r in range(ranks)]
    states = {k: np.concatenate([p[k] for p in parts]) for k in parts[0].files if k != "data_state"}
    return states, [str(p["data_state"]) for p in parts]


def _check_equal(two: Path, one: Path) -> None:
    ref = _weights(one)
    assert any("softmax" in k for k in ref) and any("RNN_1" in k for k in ref) and len(ref) > 20
    assert max_diff(_weights(two), ref) <= 1e-5  # ~2e-7 measured
    _check_slots(two, one)
    # the comparison can fail: a few updates move the weights far more than the tolerance
    assert max_diff(_weights(one, STEPS - SAVE_EVERY), ref) > 1e-3
    np.testing.assert_allclose(_losses(two), _losses(one), rtol=1e-5)
    states2, data2 = _carried(two, 2)
    states1, data1 = _carried(one, 1)
    assert states2.keys() == states1.keys() and states1["0_0_c"].shape[0] == 2 * B
    assert max_diff(states2, states1) <= 1e-5
    assert data2 == data1 * 2  # every worker holds the position of the whole global batch's streams
    # the chief writes the shared checkpoints, every worker its carried states
    assert {p.name for p in (two / "ckpt").glob("ckpt-*.index")} == {
        f"ckpt-{s}.index" for s in range(SAVE_EVERY, STEPS + 1, SAVE_EVERY)}
    assert {p.name for p in (two / "ckpt").glob(f"ckpt-{STEPS}.rank*.npz")} == {
        f"ckpt-{STEPS}.rank0.npz", f"ckpt-{STEPS}.rank1.npz"}


def test_tf_distribute_two_workers_equal_one_process_with_double_batch(single_run, tf_run):
    _check_equal(tf_run, single_run)


@pytest.mark.horovod
def test_horovod_two_ranks_equal_one_process_with_double_batch(single_run, mpi_run):
    _check_equal(mpi_run, single_run)


@pytest.mark.horovod
def test_horovod_and_tf_distribute_agree(mpi_run, tf_run):
    assert max_diff(_weights(mpi_run), _weights(tf_run)) <= 1e-5
    _check_slots(mpi_run, tf_run)
    np.testing.assert_allclose(_losses(mpi_run), _losses(tf_run), rtol=1e-5)


def test_tf_distribute_under_srun_two_tasks(slurm, work, single_run):  # noqa: F811
    """srun -n 2 without PMI: `auto` picks tf-distribute, the cluster comes from SlurmClusterResolver."""
    out = work / "srun"
    env = dict(slurm.env, NORLM_WORK=str(work), PYTHONPATH=str(REPO / "src"), TF_CPP_MIN_LOG_LEVEL="2",
               TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")
    cmd = ["srun", "-n", "2", "--mpi=none", "--time=5", sys.executable, "-m", "norlm", *_args(out, B)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _check_equal(out, single_run)
