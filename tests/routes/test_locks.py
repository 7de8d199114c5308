"""The route locks are the one place of each route's versions: the easyconfigs, extras.txt, the
container recipes and pyproject's per-Python pins agree with them (the route venvs are built from them
by `make test-route`; tests/routes/test_route_env.py checks a built venv against its lock)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from norlm.compat import tomllib

from tests.conftest import REPO, VENV_BIN
from tests.routes.conftest import load_script

route_lock = load_script("route_lock")
ROUTES = REPO / "requirements" / "routes"
EXTRAS = REPO / "recipes" / "containers" / "extras.txt"
NAMES = ["lumi", "olivia", "roihu", "saga-easybuild"]
UPSTREAM = VENV_BIN.parent / "easybuild" / "easyconfigs"  # easybuild-easyconfigs 5.4.1 in the dev venv


def lock(name: str):
    return route_lock.read_lock(ROUTES / f"{name}.txt")


def test_one_lock_per_rendered_route():
    assert sorted(p.stem for p in ROUTES.glob("*.txt")) == NAMES
    expected = {"lumi": ("3.10", "horovod 0.28.1", "2.16.1"), "olivia": ("3.12", "tf-distribute", "2.17.0"),
                "roihu": ("3.12", "tf-distribute", "2.21.0"), "saga-easybuild": ("3.12", "horovod 0.28.1", "2.18.1")}
    for name, (python, engine, tf) in expected.items():
        got = lock(name)
        assert (got.python, got.engine) == (python, engine), name
        assert got.pins["tensorflow-cpu"].version == tf and got.pins["tensorflow-cpu"].note.startswith("route:")
        assert "numpy" in got.pins and "pytest" in got.pins, name
        assert len(got.pins) > 40, f"{name}: not resolved (RELOCK=1 writes the full lock)"


@pytest.mark.parametrize("name", ["lumi", "olivia", "roihu"])
def test_extras_pins_are_the_locks(name):
    got = lock(name)
    python = tuple(int(x) for x in got.python.split("."))
    extras = route_lock.extras_for(EXTRAS, python)
    assert {k for k, p in got.pins.items() if p.note.startswith("extras:")} == set(extras)
    for key, pin in extras.items():
        assert got.pins[key].version == pin.version, f"{name}: extras.txt {pin.name}=={pin.version}"


def test_pyproject_pins_per_python_are_the_routes():
    """pyproject's runtime pins on 3.10 are the LUMI route's; on 3.11+ the dev lock's (and extras')."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    pins = route_lock.parse_pins([d.replace("'", '"') for d in project["dependencies"]], "pyproject.toml")
    lumi = lock("lumi")
    dev = route_lock.read_lock(REPO / "requirements" / "lock.txt")
    for pin in pins:
        key = route_lock.canonical(pin.name)
        if key == "numpy":
            continue  # TensorFlow's and the image's; the routes install the package without dependencies
        if route_lock.marker_applies(pin.marker, (3, 10)):
            assert lumi.pins[key].version == pin.version, f"{pin.name} on 3.10"
        if route_lock.marker_applies(pin.marker, (3, 11)):
            assert dev.pins[key].version == pin.version, f"{pin.name} on 3.11+"


def _eb_versions(path: Path) -> dict[str, str]:
    """name -> version of an easyconfig: itself, its dependencies and its extensions (case-folded)."""
    text = path.read_text()
    found = {route_lock.canonical(n): v for n, v in re.findall(r"\('([A-Za-z0-9_.-]+)', '([0-9][^']*)'", text)}
    own = re.search(r"^name = '([^']+)'", text, re.M).group(1), re.search(r"^version = '([^']+)'", text, re.M).group(1)
    found[route_lock.canonical(own[0])] = own[1]
    return found


def _easyconfig_of(module: str) -> Path:
    """The .eb file of a module name `Name/version-suffix`: ours first, then upstream's."""
    name, rest = module.split("/", 1)
    for root in (REPO / "easyconfigs", UPSTREAM):
        hits = sorted(root.glob(f"{name[0].lower()}/{name}/{name}-{rest}.eb"))
        if hits:
            return hits[0]
    raise AssertionError(f"no easyconfig for {module}")


def test_saga_route_pins_are_the_easyconfigs_versions():
    """Each `# route: Module/...` pin of the EasyBuild route is that module's version of the package,
    read from its easyconfig (ours under easyconfigs/, upstream's from easybuild-easyconfigs 5.4.1)."""
    assert UPSTREAM.is_dir(), "easybuild-easyconfigs is part of the dev venv (requirements/lock.txt)"
    pip_to_eb = {"tensorflow-cpu": "tensorflow", "torch": "pytorch", "protobuf": "protobuf-python"}
    pins = lock("saga-easybuild").route_pins()
    for key, pin in pins.items():
        module = pin.note.removeprefix("route:").strip()
        versions = _eb_versions(_easyconfig_of(module))
        assert versions.get(pip_to_eb.get(key, key)) == pin.version, f"{pin.name}=={pin.version} vs {module}"
    # and every Python package the NorLM easyconfig names has a route pin
    norlm = _eb_versions(REPO / "easyconfigs" / "n" / "NorLM" / "NorLM-0.1.0-foss-2024a.eb")
    eb_to_pip = {v: k for k, v in pip_to_eb.items()}
    named = {eb_to_pip.get(k, k) for k in norlm} - {"python", "python-bundle-pypi", "scipy-bundle", "norlm"}
    assert named <= set(pins), named - set(pins)


def test_container_recipes_keep_the_routes_tensorflow():
    """The .def files name the image whose versions the lock records."""
    ngc = (REPO / "recipes" / "containers" / "ngc-tensorflow.def").read_text()
    rocm = (REPO / "recipes" / "containers" / "rocm-tensorflow.def").read_text()
    assert "TAG=25.02-tf2-py3" in ngc and "25.02-tf2-py3" in lock("olivia").header[0]
    assert "rocm-6.2.0-python-3.10-tensorflow-2.16.1-horovod-0.28.1" in rocm
    assert "TensorFlow-2.16.1-rocm-6.2.0-python-3.10-horovod-0.28.1" in "\n".join(lock("lumi").header)
    assert "requirements/routes/" in ngc and "requirements/routes/" in rocm


def test_extras_for_picks_by_python_version():
    three_ten = route_lock.extras_for(EXTRAS, (3, 10))
    three_twelve = route_lock.extras_for(EXTRAS, (3, 12))
    assert three_ten["nervaluate"].version == "0.2.0" and three_twelve["nervaluate"].version == "1.2.1"
    assert "tomli" in three_ten and "tomli" not in three_twelve
    with pytest.raises(ValueError, match="unsupported marker"):
        route_lock.marker_applies('sys_platform == "linux"', (3, 12))
