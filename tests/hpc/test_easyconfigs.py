"""Offline EasyBuild checks of easyconfigs/: style and checksums, dependency resolution, conflicts."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REPO, VENV_BIN

EASYCONFIGS = REPO / "easyconfigs"
TOP_LEVEL = {
    "NorLM-0.1.0-foss-2024a-CUDA-12.6.0.eb": {
        "TensorFlow": "TensorFlow/2.18.1-foss-2024a-CUDA-12.6.0",
        "Horovod": "Horovod/0.28.1-foss-2024a-CUDA-12.6.0-TensorFlow-2.18.1",
        "CUDA": "CUDA/12.6.0",
        "NCCL": "NCCL/2.22.3-GCCcore-13.3.0-CUDA-12.6.0",
        "cuDNN": "cuDNN/9.5.0.50-CUDA-12.6.0",
    },
    "NorLM-0.1.0-foss-2024a.eb": {
        "TensorFlow": "TensorFlow/2.18.1-foss-2024a",
        "Horovod": "Horovod/0.28.1-foss-2024a-TensorFlow-2.18.1",
    },
}
COMMON = ["OpenMPI/5.0.3-GCC-13.3.0", "mpi4py/4.0.1-gompi-2024a", "tokenizers/0.22.1-GCCcore-13.3.0",
          "SentencePiece/0.2.1-GCC-13.3.0", "h5py/3.12.1-foss-2024a", "gensim/4.4.0-foss-2024a",
          "Safetensors/0.6.2-gfbf-2024a", "Python/3.12.3-GCCcore-13.3.0"]


@pytest.fixture(scope="module")
def eb_results(tmp_path_factory):
    """Run every eb check once, in parallel: the literal `eb` commands of the docs, and one
    process (norlm.hpc.ebcheck) that resolves both stacks and checks them for conflicts."""
    tmp = tmp_path_factory.mktemp("eb")
    env = dict(os.environ, EASYBUILD_ALLOW_USE_AS_ROOT_AND_ACCEPT_CONSEQUENCES="1",
               LMOD_CMD=os.environ.get("LMOD_CMD", "/usr/share/lmod/lmod/libexec/lmod"),
               EASYBUILD_MODULES_TOOL="Lmod", EASYBUILD_PREFIX=str(tmp / "prefix"), TMPDIR=str(tmp),
               EASYBUILD_TMPDIR=str(tmp), PATH=f"{VENV_BIN}:{os.environ['PATH']}", COLUMNS="1000")
    files = sorted(str(p) for p in EASYCONFIGS.rglob("*.eb"))
    tops = [str(next(EASYCONFIGS.rglob(name))) for name in sorted(TOP_LEVEL)]
    gpu = next(t for t in tops if "CUDA" in t)
    commands = {
        "contrib": [str(VENV_BIN / "eb"), "--check-contrib", *files],
        "dry": [str(VENV_BIN / "eb"), f"--robot={EASYCONFIGS}:", "-D", gpu],
        "graph": [sys.executable, "-m", "norlm.hpc.ebcheck", "--out", str(tmp / "graph.json"), *tops],
    }

    def run(cmd):
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp)

    with ThreadPoolExecutor(3) as pool:
        results = dict(zip(commands, pool.map(run, commands.values())))
    graph = json.loads((tmp / "graph.json").read_text()) if (tmp / "graph.json").exists() else {}
    return files, results, {Path(k).name: v for k, v in graph.items()}


def test_every_easyconfig_passes_check_contrib(eb_results):
    files, results, _ = eb_results
    proc = results["contrib"]
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert len(files) == 4
    assert "All style checks PASSed!" in out and "All SHA256 checksums checks PASSed!" in out
    assert out.count("[PASS]") >= 2 * len(files)


def test_eb_dry_run_resolves_the_gpu_stack(eb_results):
    proc = eb_results[1]["dry"]
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    modules = set(re.findall(r"\(module: ([^)]+)\)", proc.stdout))
    gpu = TOP_LEVEL["NorLM-0.1.0-foss-2024a-CUDA-12.6.0.eb"]
    for module in [*gpu.values(), *COMMON, "NorLM/0.1.0-foss-2024a-CUDA-12.6.0"]:
        assert module in modules, f"{module} not in `eb -D` output"
    # our own Horovod easyconfig is the one resolved (upstream has none for foss-2024a)
    # (eb prints paths in full or abbreviated as $CFGS/...; the upstream collection is under easybuild/)
    assert re.search(r"(?<!easybuild/)easyconfigs/h/Horovod/Horovod-0\.28\.1-foss-2024a-CUDA-12\.6\.0-TensorFlow-2\.18\.1"
                     r"\.eb \(module: " + re.escape(gpu["Horovod"]), proc.stdout)


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_robot_resolves_each_stack_without_conflicts(eb_results, name):
    proc, graph = eb_results[1]["graph"], eb_results[2]
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    result = graph[name]
    modules = set(result["modules"])
    for module in [*TOP_LEVEL[name].values(), *COMMON]:
        assert module in modules, f"{module} not in the dependency graph of {name}"
    assert result["modules"][-1] == "NorLM/" + name[len("NorLM-"):-len(".eb")]
    assert result["conflicts"] == []
    ours = [f for f in result["files"] if f.startswith(str(EASYCONFIGS))]
    assert sorted(Path(f).name for f in ours) == sorted([TOP_LEVEL[name]["Horovod"].replace("/", "-") + ".eb", name])
    if "CUDA" in name:
        assert len(modules) > 150
    else:
        assert not any(m.startswith(("CUDA/", "NCCL/", "cuDNN/")) for m in modules), "CPU stack pulls in CUDA"
