"""The tf-distribute engine's launch paths: which engine `auto` picks for each launcher environment, the
collectives on 2 workers under plain TF_CONFIG and under `srun -n 2` on the local Slurm test cluster
(SlurmClusterResolver), and bert-train under srun."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from norlm.engines import detect
from tests.conftest import REPO, norlm_env
from tests.hpc.conftest import slurm  # noqa: F401  (the session's local Slurm cluster)

PROBE = str(REPO / "tests" / "foundation" / "engines_probe.py")
TF_LAUNCH = str(Path(__file__).with_name("tf_launch.py"))
LAUNCH_VARS = ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "HOROVOD_SIZE", "HOROVOD_RANK", "PMI_SIZE", "PMI_RANK",
               "PMIX_RANK", "SLURM_STEP_ID", "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID",
               "TF_CONFIG", "NORLM_ENGINE")


@pytest.fixture
def clean_env(monkeypatch):
    for var in LAUNCH_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def _tf_config(index: int, workers=("node1:2222", "node1:2223", "node2:2222")) -> str:
    return json.dumps({"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": index}})


def test_auto_engine_for_each_launcher(clean_env, monkeypatch):
    assert detect.choose("auto")[0::2] == ("none", (0, 1, 0))
    monkeypatch.setenv("TF_CONFIG", _tf_config(2))
    engine, why, world = detect.choose("auto")
    assert (engine, world) == ("tf-distribute", (2, 3, 0)) and "TF_CONFIG" in why
    monkeypatch.setenv("TF_CONFIG", _tf_config(1))
    assert detect.choose("auto")[2] == (1, 3, 1)  # second task on node1: local rank 1 (its GPU)
    monkeypatch.delenv("TF_CONFIG")
    for var, value in {"SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "4", "SLURM_PROCID": "3",
                       "SLURM_LOCALID": "1"}.items():
        monkeypatch.setenv(var, value)
    engine, why, world = detect.choose("auto")
    assert (engine, world) == ("tf-distribute", (3, 4, 1)) and "Slurm step of 4 tasks" in why
    monkeypatch.setenv("PMIX_RANK", "3")  # srun --mpi=pmix: Horovod when it is installed
    monkeypatch.setattr(detect, "horovod_installed", lambda: True)
    assert detect.choose("auto")[0::2] == ("horovod", (3, 4, 1))
    assert detect.choose("tf-distribute")[0] == "tf-distribute"
    monkeypatch.setattr(detect, "horovod_installed", lambda: False)
    assert detect.choose("auto")[0] == "tf-distribute"
    monkeypatch.setenv("NORLM_ENGINE", "horovod")  # stands in for run.engine=auto
    assert detect.choose("auto")[0] == "horovod"


def test_mpirun_without_horovod_is_refused_not_run_as_copies(clean_env, monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "1")
    monkeypatch.setattr(detect, "horovod_installed", lambda: False)
    engine, why, _ = detect.choose("auto")
    assert engine == "unavailable" and "Horovod is not installed" in why
    assert detect.choose("tf-distribute")[0] == "none"  # no cluster description for tf-distribute
    with pytest.raises(ValueError, match="run.engine must be one of"):
        detect.choose("mpi")


def test_bad_tf_config_names_the_problem(clean_env, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not JSON"):
        detect.choose("auto")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:1"]},
                                                "task": {"type": "worker", "index": 5}}))
    with pytest.raises(ValueError, match="not one of its chief/worker tasks"):
        detect.choose("auto")


def _results(out: Path) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in out.glob("rank*.json")), key=lambda d: d["rank"])


def _check_two_workers(results: list[dict]) -> None:
    assert [r["rank"] for r in results] == [0, 1]
    for r in results:
        assert r["size"] == 2 and r["controller"] == "tf-distribute"
        assert r["sum"] == [3.0] * 4 and r["mean"] == [1.5] * 4
        assert r["bcast_var"] == [0.0] * 3 and r["bcast_obj"] == {"from": 0} and r["gathered"] == [0, 10]
    assert results[0]["split"] == [0, 2, 4] and results[1]["split"] == [1, 3]


def test_collectives_on_two_workers_with_tf_config(tmp_path):
    proc = subprocess.run([sys.executable, TF_LAUNCH, "2", sys.executable, PROBE, str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=180, env=norlm_env(PYTHONPATH=str(REPO / "src")))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _check_two_workers(_results(tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("mpi, engine", [("none", ""), ("pmix", "tf-distribute")])
def test_collectives_under_srun_two_tasks(slurm, tmp_path, mpi, engine):  # noqa: F811
    """srun -n 2: without PMI `auto` picks tf-distribute; with PMIx (the cluster default) run.engine /
    NORLM_ENGINE selects it even though Horovod is installed.  The cluster comes from SlurmClusterResolver."""
    env = dict(slurm.env, PYTHONPATH=str(REPO / "src"), TF_CPP_MIN_LOG_LEVEL="2", NORLM_ENGINE=engine)
    proc = subprocess.run(["srun", "-n", "2", f"--mpi={mpi}", "--time=5", sys.executable, PROBE, str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _check_two_workers(_results(tmp_path))
