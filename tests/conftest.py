"""Shared test fixtures: paths, a subprocess runner for the `norlm` CLI, and launcher environments."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SHARED = REPO.parent / "shared"  # present on developer machines and in CI; tests must not require it
VENV_BIN = Path(sys.executable).parent

# quiet TensorFlow and allow MPI as root (CI runs as root)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
os.environ.setdefault("OMPI_MCA_btl_tcp_if_include", "lo")
os.environ.setdefault("OMPI_MCA_oob_tcp_if_include", "lo")
# ranks waiting in MPI yield the CPU instead of spinning: 2 cores host several ranks in the tests
os.environ.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")


# session fixtures of a tiny exported BERT, used by tests/bert/interop and tests/evaluate
pytest_plugins = ["tests.bert.interop.models"]

def norlm_env(work: Path | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env.pop("NORLM_WORK", None)
    if work is not None:
        env["NORLM_WORK"] = str(work)
    env.update(extra)
    return env


def run_norlm(*args: str, work: Path | None = None, check: bool = True, timeout: float = 600,
              env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run `python -m norlm ARGS` in a subprocess; on failure show its output."""
    proc = subprocess.run([sys.executable, "-m", "norlm", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env or norlm_env(work))
    if check and proc.returncode != 0:
        raise AssertionError(f"norlm {' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
                             f"\n--- stderr\n{proc.stderr[-4000:]}")
    return proc


def mpirun_cmd(n: int) -> list[str]:
    """mpirun for n local ranks on loopback (root allowed; oversubscribe so 2 cores host any n)."""
    return ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(n), "--bind-to", "none",
            "-mca", "btl", "self,tcp", "-mca", "btl_tcp_if_include", "lo", "-x", "PATH", "-x", "PYTHONPATH",
            "-mca", "mpi_yield_when_idle", "1", "-x", "TF_CPP_MIN_LOG_LEVEL", "-x", "NORLM_WORK"]


def horovodrun_gloo_cmd(n: int) -> list[str]:
    return [str(VENV_BIN / "horovodrun"), "--gloo", "-np", str(n), "-H", f"localhost:{n}"]


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(autouse=True)
def _no_stage_name_between_tests(monkeypatch):
    """A test that runs `norlm.cli.main` in-process sets the stage name warnings carry; each test starts
    without one, so a warning's prefix does not depend on which test ran before."""
    from norlm import errors

    monkeypatch.setattr(errors, "CURRENT_STAGE", "")
