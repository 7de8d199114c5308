"""norlm.engines pieces of the multi-worker contract: GPU pinning by local rank, ordered gathers, metric means."""
from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from norlm import engines
from tests.conftest import REPO, mpirun_cmd, norlm_env


@pytest.fixture
def fake_gpus(monkeypatch):
    """TensorFlow's device calls replaced by fakes that record what pin_gpu asked for."""
    import tensorflow as tf

    calls = {"visible": [], "growth": []}

    def install(n: int):
        devices = [SimpleNamespace(name=f"/physical_device:GPU:{i}", device_type="GPU") for i in range(n)]
        monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: devices if kind == "GPU" else [])
        monkeypatch.setattr(tf.config, "set_visible_devices",
                            lambda dev, kind=None: calls["visible"].append((dev.name, kind)))
        monkeypatch.setattr(tf.config.experimental, "set_memory_growth",
                            lambda dev, on: calls["growth"].append((dev.name, on)))
        return calls

    for var in ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_SIZE", "PMIX_RANK"):
        monkeypatch.delenv(var, raising=False)
    return install


@pytest.mark.parametrize("local_rank, gpus, expected", [(0, 4, "GPU:0"), (3, 4, "GPU:3"), (5, 4, "GPU:1"),
                                                        (2, 1, "GPU:0")])
def test_pin_gpu_picks_the_local_rank_gpu(fake_gpus, monkeypatch, local_rank, gpus, expected):
    # 8 ranks over 2 nodes, 4 per node; one GPU visible = the launcher already gave each task its own
    monkeypatch.setenv("HOROVOD_SIZE", "8")
    monkeypatch.setenv("HOROVOD_RANK", str(4 + local_rank))
    monkeypatch.setenv("HOROVOD_LOCAL_RANK", str(local_rank))
    assert engines.launcher_world() == (4 + local_rank, 8, local_rank)
    monkeypatch.setattr(engines, "_LAUNCH", engines.launcher_world())  # read once at import in a real run
    calls = fake_gpus(gpus)
    assert engines.local_rank() == local_rank
    name = engines.pin_gpu()
    assert name == f"/physical_device:{expected}"
    assert calls["visible"] == [(name, "GPU")] and calls["growth"] == [(name, True)]


def test_pin_gpu_without_gpus_changes_nothing(fake_gpus):
    calls = fake_gpus(0)
    assert engines.pin_gpu() is None
    assert calls == {"visible": [], "growth": []}


def test_single_process_helpers_are_identities():
    assert engines.mean_metrics({"loss": 2.5, "applied": True}) == {"loss": 2.5, "applied": True}
    assert engines.split_indexed(["a", "b", "c"]) == [(0, "a"), (1, "b"), (2, "c")]
    assert engines.allgather_ordered([(1, "b"), (0, "a")]) == ["a", "b"]


def test_init_sets_a_stall_bound_for_hung_ranks(monkeypatch):
    monkeypatch.delenv("HOROVOD_STALL_SHUTDOWN_TIME_SECONDS", raising=False)
    monkeypatch.delenv("HOROVOD_STALL_CHECK_TIME_SECONDS", raising=False)
    engines.fail_fast_on_dead_peer(30)
    import os

    assert os.environ["HOROVOD_STALL_SHUTDOWN_TIME_SECONDS"] == "30"
    assert os.environ["HOROVOD_STALL_CHECK_TIME_SECONDS"] == "15"
    engines.fail_fast_on_dead_peer(600)  # an explicit setting wins
    assert os.environ["HOROVOD_STALL_SHUTDOWN_TIME_SECONDS"] == "30"


def test_two_mpi_ranks_gather_in_input_order_and_average_metrics(tmp_path):
    # each rank writes its own file: mpirun may drop a rank's last stdout line when it exits
    code = ("import json, sys; from norlm import engines; engines.init_light(); items = list('abcde'); "
            "mine = [(i, x.upper()) for i, x in engines.split_indexed(items)]; "
            "m = engines.mean_metrics({'loss': float(engines.rank() + 1), 'ok': engines.rank() == 0, 'name': 'x'}); "
            "row = [engines.rank(), [i for i, _ in mine], engines.allgather_ordered(mine), m]; "
            "open(f'{sys.argv[1]}/rank{engines.rank()}.json', 'w').write(json.dumps(row))")
    proc = subprocess.run(mpirun_cmd(2) + [sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=120, env=norlm_env(PYTHONPATH=str(REPO / "src")), cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert rows == [[0, [0, 2, 4], list("ABCDE"), {"loss": 1.5, "ok": True, "name": "x"}],
                    [1, [1, 3], list("ABCDE"), {"loss": 1.5, "ok": False, "name": "x"}]]
