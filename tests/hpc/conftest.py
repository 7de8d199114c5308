"""A real one-node Slurm for the job-script tests: munge, slurmctld and slurmd started from
recipes/local/cluster.sh for the session and stopped by PID at the end, even after a failure."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

CLUSTER_SH = REPO / "recipes" / "local" / "cluster.sh"


@dataclass
class SlurmCluster:
    dir: Path
    env: dict[str, str]  # SLURM_CONF, Lmod's `module` and the stub modules, for sbatch and friends

    def run(self, *cmd: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n"
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def job(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` as a dict (JobState, ExitCode, ...)."""
        out = self.run("scontrol", "show", "job", "-o", job_id).stdout
        return dict(item.split("=", 1) for item in out.split() if "=" in item)


def _pids(d: Path) -> list[int]:
    pids = []
    for name in ("slurmd", "slurmctld", "munged"):
        f = d / "run" / f"{name}.pid"
        if f.exists() and f.read_text().strip().isdigit():
            pids.append(int(f.read_text()))
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A private work folder (NORLM_WORK) for rendering."""
    monkeypatch.setenv("NORLM_WORK", str(tmp_path / "work"))
    return (tmp_path / "work").resolve()


@pytest.fixture(scope="session")
def slurm(tmp_path_factory) -> SlurmCluster:
    d = tmp_path_factory.mktemp("slurm")
    started = time.time()
    try:
        up = subprocess.run([str(CLUSTER_SH), "up", str(d)], capture_output=True, text=True, timeout=60)
        assert up.returncode == 0, f"cluster.sh up failed:\n{up.stdout}\n{up.stderr}"
        dump = subprocess.run(["bash", "-c", f"source {d}/env.sh && env -0"], check=True, capture_output=True,
                              timeout=30).stdout.decode()
        env = dict(item.split("=", 1) for item in dump.split("\0") if "=" in item)
        env["PATH"] = f"{REPO / '.venv' / 'bin'}:{env.get('PATH', '')}"
        print(f"\n[slurm] test cluster up in {time.time() - started:.1f} s: {d}")
        yield SlurmCluster(d, env)
    finally:
        pids = _pids(d)
        subprocess.run([str(CLUSTER_SH), "down", str(d)], capture_output=True, timeout=60)
        for pid in pids:  # cluster.sh stops by PID too; this is the safety net
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
