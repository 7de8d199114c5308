"""Offline check of the project's easyconfigs before `make modules`: resolve each top-level
easyconfig against easyconfigs/ plus EasyBuild's own, list the modules of its dependency graph
and any version conflicts, as JSON.  One process resolves every file (EasyBuild caches what it
parsed), which is several times faster than one `eb -D` and one `eb --check-conflicts` per file.

    python -m norlm.hpc.ebcheck [--out FILE] easyconfigs/n/NorLM/NorLM-0.1.0-foss-2024a-CUDA-12.6.0.eb ...

Needs `LMOD_CMD` (EasyBuild insists on a modules tool even when building nothing) and, as root,
EASYBUILD_ALLOW_USE_AS_ROOT_AND_ACCEPT_CONSEQUENCES=1.  Exit code 1 when any conflict is found.
"""
from __future__ import annotations

import json
import os
import sys

from norlm.config import REPO_ROOT
from norlm.files import atomic_open


def check(paths: list[str], robot: str = str(REPO_ROOT / "easyconfigs")) -> dict[str, dict]:
    from easybuild.framework.easyconfig.easyconfig import process_easyconfig
    from easybuild.tools.modules import modules_tool
    from easybuild.tools.options import set_up_configuration
    from easybuild.tools.robot import check_conflicts, resolve_dependencies

    # EasyBuild finds its own easyconfigs next to the `eb` it finds on PATH
    os.environ["PATH"] = f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}"
    set_up_configuration(args=[f"--robot={robot}:"], silent=True)
    modtool = modules_tool()
    results = {}
    for path in paths:
        ecs = process_easyconfig(path)
        ordered = resolve_dependencies(ecs, modtool, retain_all_deps=True)
        conflicts = check_conflicts(ecs, modtool, return_conflicts=True)
        results[path] = {
            "modules": [ec["full_mod_name"] for ec in ordered],
            "files": [ec["spec"] for ec in ordered],
            "conflicts": [str(c) for c in conflicts],
        }
    return results


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    out = None
    if argv[0] == "--out":
        out, argv = argv[1], argv[2:]
    results = check(argv)
    text = json.dumps(results, indent=1)
    if out:
        with atomic_open(out) as fh:
            fh.write(text + "\n")
    else:
        print(text)
    for path, result in results.items():
        state = f"{len(result['conflicts'])} conflict(s)" if result["conflicts"] else "no conflicts"
        print(f"{path}: {len(result['modules'])} modules, {state}", file=sys.stderr)
    return 1 if any(r["conflicts"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
