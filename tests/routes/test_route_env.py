"""Run inside a route venv (`make test-route ROUTE=...`): the venv is the route's lock, on the route's
Python; extras.txt installs on it as the container recipes run it; TOML is read on this Python; the
route's engine is built in.  Collected only when NORLM_ROUTE names the route (tests/routes/conftest.py)."""
from __future__ import annotations

import importlib.metadata as md
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO, VENV_BIN
from tests.routes.conftest import ROUTE, load_script

route_lock = load_script("route_lock")
LOCK = route_lock.read_lock(REPO / "requirements" / "routes" / f"{ROUTE}.txt")
EXTRAS = REPO / "recipes" / "containers" / "extras.txt"


def installed() -> dict[str, str]:
    """name -> version, the first on sys.path as imports see it (setuptools, once imported, appends its
    vendored packaging/platformdirs/tomli after site-packages)."""
    found: dict[str, str] = {}
    for dist in md.distributions():
        found.setdefault(route_lock.canonical(dist.metadata["Name"]), dist.version)
    return found


def test_python_is_the_routes():
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" == LOCK.python


def test_venv_versions_equal_the_lock():
    have = installed()
    wrong = {name: (pin.version, have.get(name)) for name, pin in LOCK.pins.items() if have.get(name) != pin.version}
    assert wrong == {}, "lock version, installed version"


def _test_venv_versions_equal_the_norlm_easyconfig():
    """Every Python package NorLM-0.1.0-foss-2024a.eb names (dependency modules and extensions) is
    installed here at the easyconfig's version; the ones of upstream modules via the lock's notes."""
    text = (REPO / "easyconfigs" / "n" / "NorLM" / "NorLM-0.1.0-foss-2024a.eb").read_text()
    named = dict(re.findall(r"^\s*\('([A-Za-z0-9_.-]+)', '([0-9][^']*)'", text, re.M))
    pip_names = {"TensorFlow": "tensorflow-cpu", "PyTorch": "torch", "protobuf-python": "protobuf",
                 "SentencePiece": "sentencepiece", "Safetensors": "safetensors", "Horovod": "horovod"}
    not_python = {"Python", "Python-bundle-PyPI", "SciPy-bundle"}  # the interpreter; bundles checked via the lock
    have = installed()
    checked = 0
    for module, version in named.items():
        if module in not_python:
            continue
        name = route_lock.canonical(pip_names.get(module, module))
        assert have.get(name) == version, f"{module} {version} in the easyconfig, {have.get(name)} here"
        checked += 1
    assert checked >= 17
    assert have["numpy"] == "1.26.4" and have["scipy"] == "1.13.1"  # SciPy-bundle/2024.05


def _test_extras_install_on_this_python(tmp_path):
    """install-extras.sh's pip command, dry-run and offline, in this venv: every pin of extras.txt for
    this Python is already satisfied next to the route's TensorFlow, numpy, h5py and Keras."""
    keep = tmp_path / "image-keeps.txt"
    keep.write_text("".join(f"{n}=={md.version(n)}\n" for n in ("tensorflow-cpu", "numpy", "h5py", "keras")))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--constraint", str(keep),
                           "--requirement", str(EXTRAS)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Would install" not in proc.stdout, proc.stdout
    wanted = route_lock.extras_for(EXTRAS, sys.version_info[:2])
    assert len(wanted) >= 10 and all(md.version(p.name) == p.version for p in wanted.values())


# the EasyBuild route is its easyconfigs; the container and module routes add extras.txt
if ROUTE == "saga-easybuild":
    test_venv_versions_equal_the_norlm_easyconfig = _test_venv_versions_equal_the_norlm_easyconfig
else:
    test_extras_install_on_this_python = _test_extras_install_on_this_python


def test_toml_is_read_on_this_python():
    from norlm.compat import tomllib
    from norlm.config import load_config

    assert tomllib.__name__ == ("tomllib" if sys.version_info >= (3, 11) else "tomli")
    cfg = load_config(REPO / "configs" / "smoke.toml", ["run.seed=7"])
    assert cfg.run.seed == 7
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads("a = ")


def test_the_routes_engine_is_built_in():
    if not LOCK.engine.startswith("horovod"):
        assert LOCK.engine == "tf-distribute"
        assert "horovod" not in installed()
        return
    assert md.version("horovod") == LOCK.engine.split()[1]
    out = subprocess.run([str(VENV_BIN / "horovodrun"), "--check-build"], capture_output=True, text=True,
                         timeout=600).stdout
    for line in ("[X] TensorFlow", "[X] MPI", "[X] Gloo"):
        assert line in out, out
    assert shutil.which("mpirun")
