"""BERT training on 2 ranks equals 1 process with the doubled batch; kill, fail fast, resume exactly.

fp32 on CPU.  2 ranks x micro-batch B x ACCUM micro-batches must end with the weights of 1 process x
2B x ACCUM fed the same examples (records.py lays the files out so), under Horovod's MPI controller
(mpirun), its Gloo controller (horovodrun --gloo) and the tf-distribute engine (2 workers with TF_CONFIG;
the Slurm launch is in test_tf_distribute.py).  Runs are tiny; each start costs ~10 s of imports.
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from norlm.bert.train.checkpoint import read_state
from norlm.dllogger import read_dllog, training_points
from tests.multiworker import launch
from tests.multiworker.launch import ACCUM, B, SAVE_EVERY, STEPS, max_diff, tensors
from tests.multiworker.records import write_layouts, write_vocab_and_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("mw-train")
    vocab, model = write_vocab_and_model(root)
    single, ranks = write_layouts(root / "data", n=64, per_rank_batch=B, vocab=vocab)
    return {"root": root, "single": single, "ranks": ranks, "vocab": vocab, "model": model}


def _args(layout, input_key: str, out: Path, batch: int, *extra: str) -> list[str]:
    return launch.train_args(layout[input_key], out, layout["vocab"], layout["model"], batch, *extra)


@pytest.fixture(scope="module")
def single_run(layout):
    out = layout["root"] / "single-out"
    launch.run("single", _args(layout, "single", out, 2 * B), layout["root"] / "work")
    return out


@pytest.fixture(scope="module")
def tf_run(layout):
    out = layout["root"] / "tf-out"
    log = launch.run("tf", _args(layout, "ranks", out, B), layout["root"] / "work")
    return out, log


@pytest.fixture(scope="module")
def mpi_run(layout):
    out = layout["root"] / "mpi-out"
    log = launch.run("mpi", _args(layout, "ranks", out, B), layout["root"] / "work")
    return out, log


def _losses(out: Path) -> dict[int, float]:
    return {p["step"]: p["data"]["total_loss"] for p in training_points(read_dllog(out / "dllog.json"))}


def _check_equal_to_single(two_rank_out: Path, single_out: Path) -> None:
    final = f"model.ckpt-{STEPS}"
    ref = tensors(single_out / final, "model/")
    assert len(ref) > 30  # every weight of the 2-layer model
    assert max_diff(tensors(two_rank_out / final, "model/"), ref) <= 1e-5
    # the comparison can fail: a few updates move the weights far more than the tolerance
    assert max_diff(tensors(single_out / f"model.ckpt-{STEPS - SAVE_EVERY}", "model/"), ref) > 1e-3
    # optimiser slots agree too, and both runs consumed ACCUM micro-batches per update
    assert max_diff(tensors(two_rank_out / final, "optimizer/"), tensors(single_out / final, "optimizer/")) <= 1e-5
    assert read_state(two_rank_out)["input_position"] == read_state(single_out)["input_position"] == STEPS * ACCUM
    assert read_state(two_rank_out)["world_size"] == 2
    # the logged losses are the mean over ranks, hence the losses of the whole global batch
    two, one = _losses(two_rank_out), _losses(single_out)
    assert sorted(two) == sorted(one) and len(one) >= STEPS // 2
    np.testing.assert_allclose([two[s] for s in sorted(two)], [one[s] for s in sorted(one)], rtol=1e-5)


def _check_chief_only_writes(out: Path) -> None:
    assert len(list((out / "tensorboard").glob("events.out.tfevents.*"))) == 1
    assert sum(1 for line in (out / "dllog.json").read_text().splitlines() if '"step": 2,' in line) == 1
    assert sorted(p.name for p in out.glob("*.index")) == sorted(
        f"model.ckpt-{s}.index" for s in range(SAVE_EVERY, STEPS + 1, SAVE_EVERY))
    assert (out / "final.json").exists()


@pytest.mark.horovod
def test_two_ranks_mpirun_equal_one_process_with_double_batch(single_run, mpi_run):
    out, log = mpi_run
    assert "global batch 16 (4 x 2 x 2)" in log
    _check_equal_to_single(out, single_run)
    _check_chief_only_writes(out)  # rank 0 alone writes checkpoints, DLLogger and TensorBoard


@pytest.mark.horovod
def test_gloo_killed_rank_fails_fast_and_the_job_resumes_exactly(layout, single_run, mpi_run):
    """horovodrun --gloo: kill -9 rank 1 after the first checkpoint, rerun, end where the others end."""
    reference, _ = mpi_run
    out = layout["root"] / "gloo-out"
    args = _args(layout, "ranks", out, B)
    proc = launch.start("gloo", args, layout["root"] / "work")
    first = out / f"model.ckpt-{SAVE_EVERY}.index"
    deadline = time.time() + 240
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    victim = launch.rank_process(proc, 1)
    assert victim is not None, "rank 1 not found"
    log, waited = _kill_and_wait(proc, victim, 60, "the job")
    print(f"job exited {waited:.1f} s after kill -9 of rank 1")
    assert proc.returncode != 0 and waited < 60
    assert "Process 1 exit with status code 137" in log and "Terminating remaining workers" in log, log[-3000:]
    assert not (out / "final.json").exists()
    killed_at = read_state(out)["global_step"]
    assert SAVE_EVERY <= killed_at < STEPS

    other_world = layout["root"] / "killed-copy"
    shutil.copytree(out, other_world)

    # the same command with the same world size continues from the newest checkpoint ...
    log = launch.run("gloo", args, layout["root"] / "work")
    assert f"resumed from {out}/model.ckpt-{killed_at}" in log
    # ... to the weights of one process with the doubled batch (Gloo controller) ...
    _check_equal_to_single(out, single_run)
    # ... and, bit for bit, to the uninterrupted 2-rank run (weights, LAMB slots, step, input position)
    a, b = tensors(out / f"model.ckpt-{STEPS}"), tensors(reference / f"model.ckpt-{STEPS}")
    assert any(k.startswith("optimizer/") for k in a) and any(k.startswith("state/") for k in a)
    assert a.keys() == b.keys()
    assert [k for k in a if not np.array_equal(a[k], b[k])] == []

    # another world size may resume too: it says so and starts the data order again
    log = launch.run("single", _args(layout, "ranks", other_world, B, "--stop-at", str(killed_at + 1)),
                     layout["root"] / "work")
    assert "checkpoint was written by 2 worker(s), now 1: the data order restarts" in log
    state = read_state(other_world)
    assert state["global_step"] == killed_at + 1 and state["world_size"] == 1 and state["input_position"] == ACCUM


def test_fewer_files_than_ranks_is_refused(layout, monkeypatch):
    from norlm import engines
    from norlm.bert.train import stage as train
    from norlm.errors import StageError

    monkeypatch.setattr(engines, "_LAUNCH", (1, 2, 1))  # rank 1 of 2, as a launcher would announce
    one_file = [str(layout["single"] / "0000.tfrecord")]
    with pytest.raises(StageError, match=r"1 input file\(s\) for 2 ranks: every rank needs at least one"):
        train.training_dataset(one_file, B, 32, 4, seed=1)
    monkeypatch.setattr(engines, "_LAUNCH", (0, 1, 0))
    first = next(iter(train.training_dataset(one_file, B, 32, 4, seed=1)))
    assert first["input_ids"].shape == (B, 32)


# --------------------------------------------------------------------------- tf-distribute

def test_tf_distribute_two_workers_equal_one_process_with_double_batch(single_run, tf_run):
    out, log = tf_run
    assert "global batch 16 (4 x 2 x 2)" in log
    assert "[tf_launch] worker 0 exit code 0" in log and "[tf_launch] worker 1 exit code 0" in log
    _check_equal_to_single(out, single_run)
    _check_chief_only_writes(out)


@pytest.mark.horovod
def test_horovod_and_tf_distribute_agree(mpi_run, tf_run):
    """The same 2-worker job under both engines: same per-step losses, same weights and LAMB slots."""
    (hvd_out, _), (tf_out, _) = mpi_run, tf_run
    final = f"model.ckpt-{STEPS}"
    assert max_diff(tensors(hvd_out / final, "model/"), tensors(tf_out / final, "model/")) <= 1e-5
    assert max_diff(tensors(hvd_out / final, "optimizer/"), tensors(tf_out / final, "optimizer/")) <= 1e-5
    a, b = _losses(hvd_out), _losses(tf_out)
    assert sorted(a) == sorted(b) and len(a) >= STEPS - 1  # every update's loss
    np.testing.assert_allclose([a[s] for s in a], [b[s] for s in a], rtol=1e-5)


def _wait_for_checkpoint(proc, out: Path, step: int = SAVE_EVERY) -> None:
    first = out / f"model.ckpt-{step}.index"
    deadline = time.time() + 240
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert first.exists(), "no checkpoint appeared"


def test_tf_distribute_kill9_of_both_workers_then_restart_is_bit_identical(layout, tf_run):
    reference, _ = tf_run
    out = layout["root"] / "tf-killed-both"
    args = _args(layout, "ranks", out, B)
    proc = launch.start("tf", args, layout["root"] / "work")
    _wait_for_checkpoint(proc, out)
    workers = [launch.rank_process(proc, r) for r in (0, 1)]
    assert None not in workers, "workers not found"
    for w in workers:
        w.send_signal(signal.SIGKILL)
    log = proc.communicate(timeout=60)[0]
    assert proc.returncode == 137 and "worker 0 exit code -9" in log and "worker 1 exit code -9" in log
    killed_at = read_state(out)["global_step"]
    assert SAVE_EVERY <= killed_at < STEPS and not (out / "final.json").exists()
    log = launch.run("tf", args, layout["root"] / "work")
    assert f"resumed from {out}/model.ckpt-{killed_at}" in log
    a, b = tensors(out / f"model.ckpt-{STEPS}"), tensors(reference / f"model.ckpt-{STEPS}")
    assert any(k.startswith("optimizer/") for k in a) and any(k.startswith("state/") for k in a)
    assert a.keys() == b.keys()
    assert [k for k in a if not np.array_equal(a[k], b[k])] == []


def test_tf_distribute_killed_worker_makes_the_other_exit_within_60_s(layout):
    out = layout["root"] / "tf-killed-one"
    proc = launch.start("tf", _args(layout, "ranks", out, B, "bert.phase1.train_steps=400"), layout["root"] / "work")
    _wait_for_checkpoint(proc, out)
    survivor, victim = launch.rank_process(proc, 0), launch.rank_process(proc, 1)
    assert survivor is not None and victim is not None
    log, waited = _kill_and_wait(proc, victim, 90, "the chief")
    print(f"tf-distribute: the chief exited {waited:.1f} s after kill -9 of worker 1")
    assert "worker 1 exit code -9" in log
    code = int(log.split("[tf_launch] worker 0 exit code ")[1].split()[0])
    assert code not in (0, -9) and waited < 60, log[-3000:]
    assert "UnavailableError" in log or "Unavailable" in log


def test_tf_distribute_sigusr1_writes_a_checkpoint_and_exits_143(layout):
    out = layout["root"] / "tf-usr1"
    proc = launch.start("tf", _args(layout, "ranks", out, B, "bert.phase1.train_steps=400"), layout["root"] / "work")
    _wait_for_checkpoint(proc, out)
    proc.send_signal(signal.SIGUSR1)  # the launcher passes it to both workers, as srun does
    log = proc.communicate(timeout=120)[0]
    assert proc.returncode == 143, log[-3000:]
    assert "worker 0 exit code 143" in log and "worker 1 exit code 143" in log
    state = read_state(out)
    step = state["global_step"]
    assert SAVE_EVERY < step < 400 and (out / f"model.ckpt-{step}.index").exists()
    assert state["input_position"] == step * ACCUM and not (out / "final.json").exists()


def _kill_and_wait(proc, victim, timeout: float, who: str) -> tuple[str, float]:
    """kill -9 `victim` (one rank of `proc`); the job's log and the seconds until it exited."""
    victim.send_signal(signal.SIGKILL)
    killed = time.time()
    try:
        log = proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        launch.stop_tree(proc)
        pytest.fail(f"{who} hung for {timeout:.0f} s after a worker was killed")
    return log, time.time() - killed
