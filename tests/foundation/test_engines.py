"""norlm.engines on one process and on 2 ranks under horovodrun --gloo and mpirun (MPI controller); the
tf-distribute engine runs the same probe in tests/multiworker/test_tf_distribute.py."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, horovodrun_gloo_cmd, mpirun_cmd, norlm_env

PROBE = str(Path(__file__).with_name("engines_probe.py"))


def _probe(cmd: list[str], out: Path) -> list[dict]:
    env = norlm_env(PYTHONPATH=str(REPO))
    proc = subprocess.run(cmd + [sys.executable, PROBE, str(out)], capture_output=True, text=True, timeout=180,
                          env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return sorted((json.loads(p.read_text()) for p in out.glob("rank*.json")), key=lambda d: d["rank"])


def _check_two_ranks(results: list[dict], controller: str) -> None:
    assert [r["rank"] for r in results] == [0, 1]
    for r in results:
        assert r["size"] == 2
        assert r["controller"] == controller
        assert r["sum"] == [3.0] * 4
        assert r["mean"] == [1.5] * 4
        assert r["bcast_var"] == [0.0] * 3  # rank 0's value everywhere
        assert r["bcast_obj"] == {"from": 0}
        assert r["gathered"] == [0, 10]
    assert results[0]["split"] == [0, 2, 4]
    assert results[1]["split"] == [1, 3]


def test_single_process_is_world_of_one(tmp_path):
    [r] = _probe([], tmp_path)
    assert r["size"] == 1 and r["rank"] == 0 and r["controller"] == "none"
    assert r["sum"] == [1.0] * 4 and r["mean"] == [1.0] * 4 and r["gathered"] == [0]
    assert r["split"] == [0, 1, 2, 3, 4]


def test_engine_choice_is_reported_before_start(monkeypatch):
    from norlm import engines

    for var in ("TF_CONFIG", "NORLM_ENGINE", "OMPI_COMM_WORLD_SIZE", "HOROVOD_SIZE", "PMI_SIZE", "SLURM_STEP_ID"):
        monkeypatch.delenv(var, raising=False)
    assert engines.choose_engine("auto") == ("none", "auto: no launcher of several ranks, no TF_CONFIG: one process")
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"chief": ["h:1"], "worker": ["h:2"]}, "task": {"type": "worker", "index": 0}}')
    assert engines.choose_engine("auto") == ("tf-distribute", "auto: TF_CONFIG describes 2 workers")
    assert engines.launcher_world() == (1, 2, 1)  # the chief is rank 0


@pytest.mark.slow
@pytest.mark.horovod
def test_two_ranks_gloo(tmp_path):
    _check_two_ranks(_probe(horovodrun_gloo_cmd(2), tmp_path), "gloo")


@pytest.mark.slow
@pytest.mark.horovod
def test_two_ranks_mpi(tmp_path):
    _check_two_ranks(_probe(mpirun_cmd(2), tmp_path), "mpi")


@pytest.mark.horovod
def test_light_init_under_mpi_uses_mpi4py(tmp_path):
    # each rank writes its own file: mpirun interleaves the ranks' stdout
    code = "\n".join([
        "import sys",
        "from norlm import engines",
        "engines.init_light()",
        "line = '%d %d %s %s' % (engines.rank(), engines.size(), engines.allgather_object(engines.rank()), 'tensorflow' in sys.modules)",
        f"open('{tmp_path}/light%d.txt' % engines.rank(), 'w').write(line)",
    ])
    proc = subprocess.run(mpirun_cmd(2) + [sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=norlm_env(PYTHONPATH=str(REPO)), cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [(tmp_path / f"light{r}.txt").read_text() for r in (0, 1)]
    assert lines == ["0 2 [0, 1] False", "1 2 [0, 1] False"]
