"""The `norlm` command: stage list, info, config errors."""
from __future__ import annotations

import json

from norlm.cli import STAGES
from tests.conftest import run_norlm


def test_help_lists_every_stage():
    out = run_norlm("--help").stdout
    for name, _, _ in STAGES:
        assert f"  {name} " in out


def test_unknown_stage_is_an_error():
    proc = run_norlm("no-such-stage", check=False)
    assert proc.returncode == 2 and "unknown stage" in proc.stderr


def test_info_reports_stack_and_config():
    out = run_norlm("info", "--config", "configs/demo.toml", "run.seed=99").stdout
    assert "tensorflow   2.18.1" in out
    assert "horovod      0.28.1" in out and "MPI [X]" in out and "GLOO [X]" in out
    assert "mpi4py" in out and "Open MPI" in out
    assert "cpus" in out and "gpus         0" in out
    assert '"seed": 99' in out


def test_info_json():
    info = json.loads(run_norlm("info", "--json").stdout)
    assert info["tensorflow"] == "2.18.1"
    assert info["horovod"]["controllers"] == {"mpi": True, "gloo": True}
    assert info["launch"] == {"rank": 0, "size": 1, "local_rank": 0}
    assert info["config"]["run"]["name"] == "demo"


def test_config_error_exit_code(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nworkers = 'x'\n")
    proc = run_norlm("info", "--config", str(bad), check=False)
    assert proc.returncode == 2
    assert "run.workers" in proc.stderr and str(bad) in proc.stderr
