"""The container recipes: each .def installs exactly the runtime dependencies of pyproject.toml that its
base image lacks (extras.txt, with our pins), and `make container` builds with apptainer/singularity
where one is installed and says so where none is.  (No image is built here: no Apptainer, no GPU.)"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from norlm.compat import tomllib
from norlm.hpc.profile import available_profiles, load_profile

from tests.conftest import REPO

CONTAINERS = REPO / "recipes" / "containers"


def _pins(lines, python: tuple[int, int] = (3, 12)) -> dict[str, str]:
    """name -> ==version for `python` (markers applied), names normalised as pip does."""
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, version, marker = re.match(r"([A-Za-z0-9_.-]+)(==[^;\s]+)\s*(?:;\s*(.*))?$", line).groups()
            if _marker_applies(marker or "", python):
                pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def _marker_applies(marker: str, python: tuple[int, int]) -> bool:
    if not marker:
        return True
    op, version = re.fullmatch(r"""python_version\s*([<>=!]+)\s*["'](\d+\.\d+)["']""", marker).groups()
    other = tuple(int(x) for x in version.split("."))
    return {"<": python < other, ">=": python >= other}[op]


def _extras(python: tuple[int, int] = (3, 12)) -> dict[str, str]:
    return _pins((CONTAINERS / "extras.txt").read_text().splitlines(), python)


def _runtime_deps(python: tuple[int, int] = (3, 12)) -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return _pins(project["dependencies"] + project["optional-dependencies"]["cluster"], python)


def _definitions() -> dict[str, str]:
    return {name: load_profile(name).container.definition for name in available_profiles()
            if load_profile(name).container and load_profile(name).container.definition}


def _label(text: str, key: str) -> list[str]:
    return re.search(rf"^\s*{re.escape(key)} (.+)$", text, re.M).group(1).split()


@pytest.mark.parametrize("python", [(3, 10), (3, 12)])
def test_extras_are_the_runtime_deps_the_images_lack(python):
    extras, deps = _extras(python), _runtime_deps(python)
    setup_sh = (REPO / "scripts" / "setup.sh").read_text()
    mpi4py = re.search(r"^MPI4PY_VERSION=(\S+)", setup_sh, re.M).group(1)
    assert extras.pop("mpi4py") == f"=={mpi4py}"  # built by make setup, not a pyproject dependency
    provided = set(deps) - set(extras)
    assert provided == {"numpy", "h5py"}  # with TensorFlow (which needs both), from the image or site module
    assert extras == {name: pin for name, pin in deps.items() if name not in provided}
    assert ("tomli" in extras) == (python < (3, 11))  # tomllib's parser on Python 3.10 (norlm.compat)
    if python >= (3, 11):
        lock = _pins((REPO / "requirements" / "lock.txt").read_text().splitlines())
        assert all(lock[name] == pin for name, pin in extras.items()), "extras.txt disagrees with requirements/lock.txt"


def test_every_container_profile_has_a_definition_installing_the_extras():
    defs = _definitions()
    assert defs == {"lumi": "recipes/containers/rocm-tensorflow.def", "olivia": "recipes/containers/ngc-tensorflow.def"}
    extras_names = set(_extras())
    for cluster, path in defs.items():
        text = (REPO / path).read_text()
        assert re.search(r"^Bootstrap: (docker|localimage)$", text, re.M), path
        assert "    recipes/containers/extras.txt /opt/norlm/extras.txt\n" in text, path
        assert "    recipes/containers/install-extras.sh /opt/norlm/install-extras.sh\n" in text, path
        post = text.split("%post\n", 1)[1].split("\n%", 1)[0]
        assert re.fullmatch(r"\s*bash /opt/norlm/install-extras\.sh \S+ /opt/norlm/extras\.txt\s*", post), post
        # what the .def leaves to the image: exactly the runtime deps not in extras.txt, plus TensorFlow
        assert set(_label(text, "org.norlm.image-provides")) == (set(_runtime_deps()) - extras_names) | {"tensorflow"}
    assert "From: nvcr.io/nvidia/tensorflow:{{ TAG }}" in (REPO / defs["olivia"]).read_text()
    assert "/opt/miniconda3/envs/tensorflow/bin/python" in (REPO / defs["lumi"]).read_text()


def test_install_script_keeps_the_image_stack():
    script = (CONTAINERS / "install-extras.sh").read_text()
    assert subprocess.run(["bash", "-n", str(CONTAINERS / "install-extras.sh")]).returncode == 0
    assert 'for name in ("tensorflow", "tensorflow-rocm", "numpy", "h5py", "keras", "horovod"):' in script
    assert '-m pip install --no-cache-dir --constraint "$keep" --requirement "$extras"' in script
    # no tomllib shim any more: the package reads TOML through norlm.compat, the one place
    assert "tomllib" not in script
    importers = [p for p in (REPO / "src").rglob("*.py") if re.search(r"^\s*import tomllib", p.read_text(), re.M)]
    assert [p.name for p in importers] == ["compat.py"]


def _container(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "norlm.hpc.container", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env=env or dict(os.environ, PYTHONPATH=str(REPO / "src")))


@pytest.mark.parametrize("args, expected", [
    (["olivia", "--arch", "aarch64"], "apptainer build {c}/norlm-ngc-tf-arm64.sif recipes/containers/ngc-tensorflow.def"),
    (["olivia", "--arch", "arm64"], "apptainer build {c}/norlm-ngc-tf-arm64.sif recipes/containers/ngc-tensorflow.def"),
    (["olivia", "--arch", "x86_64"], "apptainer build {c}/norlm-ngc-tf-x86_64.sif recipes/containers/ngc-tensorflow.def"),
    (["lumi", "--arch", "x86_64"], "singularity build --build-arg BASE=/appl/x/tf.sif {c}/norlm-rocm-tf.sif "
     "recipes/containers/rocm-tensorflow.def"),
])
def test_build_command(tmp_path, args, expected):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), NORLM_CONTAINERS=str(tmp_path), SIF="/appl/x/tf.sif",
               PATH="/usr/bin:/bin")
    proc = _container(*args, "--print", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected.format(c=tmp_path)


def test_build_refusals():
    saga = _container("saga", "--print")
    assert saga.returncode == 2 and "saga has no [container] definition" in saga.stderr
    lumi_arm = _container("lumi", "--arch", "aarch64", "--print")
    assert lumi_arm.returncode == 2 and "lumi's images are for x86_64, not aarch64" in lumi_arm.stderr


def _make_container(tmp_path, path: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=path, NORLM_CONTAINERS=str(tmp_path / "images"))
    return subprocess.run(["make", "--no-print-directory", "container", "CLUSTER=olivia", "ARGS=--arch x86_64"],
                          cwd=REPO, capture_output=True, text=True, timeout=60, env=env)


def test_make_container_without_apptainer_says_so(tmp_path):
    proc = _make_container(tmp_path, "/usr/bin:/bin")
    assert proc.returncode != 0
    assert "norlm container: error: neither apptainer nor singularity is installed here" in proc.stderr
    assert f"The command would be: apptainer build {tmp_path}/images/norlm-ngc-tf-x86_64.sif" in proc.stderr


def test_make_container_runs_apptainer_build(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apptainer.log"
    (bin_dir / "apptainer").write_text(f'#!/bin/bash\necho "$PWD $*" >> {log}\n')
    (bin_dir / "apptainer").chmod(0o755)
    proc = _make_container(tmp_path, f"{bin_dir}:/usr/bin:/bin")
    assert proc.returncode == 0, proc.stderr
    assert log.read_text() == (f"{REPO} build {tmp_path}/images/norlm-ngc-tf-x86_64.sif "
                               "recipes/containers/ngc-tensorflow.def\n")
    assert (tmp_path / "images").is_dir()
