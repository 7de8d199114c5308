"""`make sbatch CLUSTER=puhti` stops with the retirement message; --allow-retired still renders."""
from __future__ import annotations

import subprocess

from tests.conftest import REPO, norlm_env


def _make(work, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "sbatch", "CLUSTER=puhti", "CONFIG=smoke",
                           "ACCOUNT=project_2003752", "STAGE=vocab", f"WORK={work}", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=norlm_env())


def test_make_sbatch_puhti_stops(tmp_path):
    proc = _make(tmp_path / "work")
    assert proc.returncode != 0
    assert "Puhti was retired on 2026-07-31; use CLUSTER=roihu" in proc.stderr and "norlm sbatch" in proc.stderr
    assert not (tmp_path / "work" / "slurm" / "vocab.sbatch").exists()


def test_make_sbatch_puhti_allow_retired(tmp_path):
    proc = _make(tmp_path / "work", "ARGS=--allow-retired")
    assert proc.returncode == 0, proc.stderr
    script = tmp_path / "work" / "slurm" / "vocab.sbatch"
    assert f"rendered vocab: {script.resolve()}" in proc.stdout
    assert "#SBATCH --account=project_2003752\n" in script.read_text()
