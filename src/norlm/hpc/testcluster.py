"""Write the configuration of a one-node test Slurm that imitates the profiled clusters.

    python -m norlm.hpc.testcluster DIR [PROFILE ...]     (default: saga puhti local)

The node gets every partition of the given profiles, with each partition's time limit, CPUs and
memory per node (EnforcePartLimits=ALL rejects what the real cluster would reject at submission),
and 4 fake GPUs of every GPU type.  recipes/local/cluster.sh starts and stops the daemons.
"""
from __future__ import annotations

import getpass
import os
import socket
import sys
from pathlib import Path

from norlm.config import REPO_ROOT
from norlm.hpc.profile import Partition, load_profile
from norlm.hpc.render import _Template

LOCAL = REPO_ROOT / "recipes" / "local"
DEFAULT_PROFILES = ("saga", "puhti", "local")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def overlay(profiles: list[str]) -> dict[str, Partition]:
    """All partitions of `profiles`; a name used twice must describe the same partition."""
    parts: dict[str, Partition] = {}
    for name in profiles:
        for pname, part in (load_profile(name).partitions or {}).items():
            if pname in parts and parts[pname] != part:
                raise SystemExit(f"partition '{pname}' differs between profiles; cannot overlay {profiles}")
            parts[pname] = part
    return parts


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
    gpu_types = sorted({p.gpu_type for p in parts.values() if p.gpus_per_node})
    per_type = max([p.gpus_per_node for p in parts.values()] + [1])
    nvme = max([p.nvme_gb for p in parts.values()] + [0])
    gres, lines = [], []
    for i, gtype in enumerate(gpu_types):
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
