"""`make lint` reaches every module: ruff lists each Python file under src/ (the engines package
included, which a folder named `dist/` would have hidden) and the tree passes its rules."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

RUFF = Path(sys.executable).with_name("ruff")


def test_ruff_lints_every_source_module():
    listed = subprocess.run([str(RUFF), "check", "--show-files", "src"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout
    seen = {Path(line.strip()).resolve() for line in listed.splitlines() if line.strip().endswith(".py")}
    modules = {p.resolve() for p in (REPO / "src").rglob("*.py")}
    assert modules and modules <= seen, sorted(str(p) for p in modules - seen)
    assert (REPO / "src/norlm/engines/__init__.py").resolve() in seen


def test_no_source_package_has_a_name_tools_exclude():
    excluded = {"dist", "build", "venv", ".venv", "node_modules", "site-packages", "__pypackages__", "_build",
                "buck-out", ".eggs", "eggs", "develop-eggs", "sdist", "wheels", "lib", "lib64", "parts", "var"}
    names = {p.name for p in (REPO / "src").rglob("*") if p.is_dir() and p.name != "__pycache__"}
    assert not names & excluded, names & excluded


def test_tree_passes_ruff():
    proc = subprocess.run([str(RUFF), "check", "src", "tests", "bench", "scripts"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
