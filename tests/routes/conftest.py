"""The route tests.  test_route_env*.py check the venv they run in against its route lock, so they are
collected only inside a route venv (`make test-route` sets NORLM_ROUTE); the lock and matrix checks run
everywhere."""
from __future__ import annotations

import importlib.util
import os
import sys

from tests.conftest import REPO

ROUTE = os.environ.get("NORLM_ROUTE", "")
collect_ignore = [] if ROUTE else ["test_route_env.py"]


def load_script(name: str):
    """A stdlib-only module of scripts/ (route_lock, support_matrix), imported by path."""
    spec = importlib.util.spec_from_file_location(f"norlm_scripts_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"norlm_scripts_{name}"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
