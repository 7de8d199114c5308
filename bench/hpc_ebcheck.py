"""Benchmark: checking the easyconfig stacks offline with one `python -m norlm.hpc.ebcheck` process
against the baseline of separate `eb -D` and `eb --check-conflicts` runs per top-level easyconfig.

Both sides run here, one after the other, in the same process tree; CPU seconds (children's
user + sys) are the fair measure on a shared machine, wall seconds are printed too.
"""
from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOPS = sorted(str(p) for p in (REPO / "easyconfigs" / "n" / "NorLM").glob("*.eb"))


def timed(cmds: list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    for cmd in cmds:
        subprocess.run(cmd, check=True, capture_output=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.time() - start, cpu


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, EASYBUILD_ALLOW_USE_AS_ROOT_AND_ACCEPT_CONSEQUENCES="1",
                   LMOD_CMD=os.environ.get("LMOD_CMD", "/usr/share/lmod/lmod/libexec/lmod"),
                   EASYBUILD_PREFIX=f"{tmp}/prefix", TMPDIR=tmp, EASYBUILD_TMPDIR=tmp,
                   PATH=f"{BIN}:{os.environ['PATH']}")
        robot = f"--robot={REPO / 'easyconfigs'}:"
        baseline = [[str(BIN / "eb"), robot, flag, top] for top in TOPS for flag in ("-D", "--check-conflicts")]
        ours = [[sys.executable, "-m", "norlm.hpc.ebcheck", "--out", f"{tmp}/graph.json", *TOPS]]
        base_wall, base_cpu = timed(baseline, env)
        our_wall, our_cpu = timed(ours, env)
    load = os.getloadavg()[0]
    lines = [
        f"machine: {platform.node()} {os.cpu_count()} CPUs, load average {load:.1f}",
        f"baseline  eb -D + eb --check-conflicts x {len(TOPS)} files: {base_cpu:6.1f} s CPU {base_wall:6.1f} s wall",
        f"ours      python -m norlm.hpc.ebcheck ({len(TOPS)} files):  {our_cpu:6.1f} s CPU {our_wall:6.1f} s wall",
        f"ratio (baseline / ours): {base_cpu / our_cpu:.2f}x CPU, {base_wall / our_wall:.2f}x wall",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
