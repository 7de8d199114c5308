"""Write the configuration of a one-node test Slurm that imitates the profiled clusters.

    python -m norlm.hpc.testcluster DIR [PROFILE ...]     (default: every profile)

The node gets every partition of the given profiles, with each partition's time limit, CPUs and
memory per node (EnforcePartLimits=ALL rejects what the real cluster would reject at submission),
and as many fake GPUs of every GPU type as the largest node has.  A partition name that two
profiles use differently (Saga's and Olivia's `accel`) gets the larger of each limit.  recipes/local/cluster.sh starts and stops the daemons.
"""
from __future__ import annotations

import dataclasses
import getpass
import socket
import sys
from pathlib import Path

from norlm.config import REPO_ROOT
from norlm.hpc.profile import Partition, format_time, load_profile, parse_time
from norlm.hpc.render import _Template

LOCAL = REPO_ROOT / "recipes" / "local"
DEFAULT_PROFILES = ("saga", "puhti", "local", "olivia", "roihu", "lumi")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wider(a: Partition, b: Partition) -> Partition:
    """A partition that admits every job either of `a` and `b` admits."""
    return dataclasses.replace(
        a, cpus_per_node=max(a.cpus_per_node, b.cpus_per_node), mem_per_node_gb=max(a.mem_per_node_gb, b.mem_per_node_gb),
        gpus_per_node=max(a.gpus_per_node, b.gpus_per_node), nvme_gb=max(a.nvme_gb, b.nvme_gb),
        gpu_type=a.gpu_type or b.gpu_type, max_nodes=max(a.max_nodes, b.max_nodes),
        max_time=format_time(max(parse_time(a.max_time), parse_time(b.max_time))))


def overlay(profiles: list[str]) -> dict[str, Partition]:
    """All partitions of `profiles`; a name used twice gets the wider limits of both."""
    parts: dict[str, Partition] = {}
    for name in profiles:
        for pname, part in (load_profile(name).partitions or {}).items():
            parts[pname] = _wider(parts[pname], part) if pname in parts else part
    return parts


def gpu_types(profiles: list[str]) -> list[str]:
    """Every GPU type of `profiles`, also of partitions merged into another one by name."""
    return sorted({part.gpu_type for name in profiles for part in (load_profile(name).partitions or {}).values()
                   if part.gpus_per_node})


def write_config(out: Path, profiles: list[str]) -> Path:
    """slurm.conf, gres.conf, mpi.conf and the fake GPU devices under `out`; returns slurm.conf."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o755)  # munged wants its socket reachable by everyone
    for sub in ("state", "spool", "log", "run", "msock", "munge", "pmix", "fakedev"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    (out / "munge").chmod(0o700)
    (out / "msock").chmod(0o755)
    parts = overlay(profiles)
    types = gpu_types(profiles)
    per_type = max([p.gpus_per_node for p in parts.values()] + [1])
    nvme = max([p.nvme_gb for p in parts.values()] + [0])
    gres, lines = [], []
    for i, gtype in enumerate(types):
        first = i * per_type
        for j in range(first, first + per_type):
            dev = out / "fakedev" / f"nvidia{j}"
            if not dev.is_symlink():
                dev.symlink_to("/dev/null")
        gres.append(f"gpu:{gtype}:{per_type}")
        devices = f"{out}/fakedev/nvidia[{first}-{first + per_type - 1}]"
        lines.append(f"NodeName=localhost Name=gpu Type={gtype} File={devices}")
    if nvme:
        gres.append(f"nvme:{nvme}")
        lines.append(f"NodeName=localhost Name=nvme Count={nvme}")
    partitions = []
    for pname, part in parts.items():
        default = " Default=YES" if pname == "debug" else ""
        partitions.append(f"PartitionName={pname} Nodes=localhost MaxTime={part.max_time} "
                          f"MaxMemPerNode={part.mem_per_node_gb * 1024} MaxCPUsPerNode={part.cpus_per_node}"
                          f"{default} State=UP")
    values = {
        "dir": out, "user": getpass.getuser(), "hostname": socket.gethostname(),
        "ctld_port": free_port(), "slurmd_port": free_port(),
        "cpus": max(p.cpus_per_node for p in parts.values()),
        "mem_mb": max(p.mem_per_node_gb for p in parts.values()) * 1024,
        "gres": ",".join(gres) or "(null)", "partitions": "\n".join(partitions),
        "gres_lines": "\n".join(lines),
    }
    for name in ("slurm.conf", "gres.conf"):
        text = _Template((LOCAL / f"{name}.in").read_text(encoding="utf-8")).substitute(
            {k: str(v) for k, v in values.items()})
        (out / name).write_text(text, encoding="utf-8")
    (out / "mpi.conf").write_text(f"PMIxCliTmpDirBase={out}/pmix\n", encoding="utf-8")
    return out / "slurm.conf"


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    conf = write_config(Path(argv[0]), list(argv[1:]) or list(DEFAULT_PROFILES))
    print(conf)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
