"""Who launched this process, and which engine that calls for: read from the environment only.

No TensorFlow or Horovod import here, so `norlm info` and the preprocessing stages stay light.
* mpirun / horovodrun / srun with PMI set OMPI_*/HOROVOD_*/PMI*/PMIX_* -> Horovod (when installed);
* an `srun` step of several tasks (Slurm) or a TF_CONFIG naming several workers -> tf-distribute;
* anything else -> one process.
"""
from __future__ import annotations

import importlib.util
import json
import os
from typing import Sequence

ENGINES = ("auto", "horovod", "tf-distribute")
_RANK_VARS = ("OMPI_COMM_WORLD_RANK", "HOROVOD_RANK", "PMIX_RANK", "PMI_RANK")
_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "HOROVOD_SIZE", "PMI_SIZE")
_LOCAL_RANK_VARS = ("OMPI_COMM_WORLD_LOCAL_RANK", "HOROVOD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID")


def env_int(names: Sequence[str]) -> int | None:
    for name in names:
        value = os.environ.get(name)
        if value not in (None, ""):
            try:
                return int(value)
            except ValueError:
                continue
    return None


def mpi_world() -> tuple[int, int, int] | None:
    """(rank, size, local rank) from an MPI/PMI/Horovod launcher of several ranks, else None."""
    size = env_int(_SIZE_VARS)
    if size is None and os.environ.get("PMIX_RANK") not in (None, "") and in_slurm_step():
        size = env_int(["SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"])  # srun --mpi=pmix sets no PMIX size
    if size is None or size <= 1:
        return None
    return env_int(_RANK_VARS) or 0, size, env_int(_LOCAL_RANK_VARS) or 0


def in_slurm_step() -> bool:
    return os.environ.get("SLURM_STEP_ID") not in (None, "", "batch", "extern")


def slurm_world() -> tuple[int, int, int] | None:
    """(rank, size, local rank) of an `srun` step with several tasks, else None."""
    if not in_slurm_step():
        return None
    size = env_int(["SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"])
    if size is None or size <= 1:
        return None
    return env_int(["SLURM_PROCID"]) or 0, size, env_int(["SLURM_LOCALID"]) or 0


def tf_config() -> dict | None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"TF_CONFIG is not JSON: {exc}") from None
    return value if isinstance(value, dict) else None


def tf_config_world() -> tuple[int, int, int] | None:
    """(rank, size, local rank) from TF_CONFIG: the chief (if any) is rank 0, then the workers in order;
    the local rank counts the earlier tasks on the same host (for GPU pinning)."""
    conf = tf_config()
    if not conf:
        return None
    cluster, task = conf.get("cluster") or {}, conf.get("task") or {}
    tasks = [("chief", i, a) for i, a in enumerate(cluster.get("chief", []))]
    tasks += [("worker", i, a) for i, a in enumerate(cluster.get("worker", []))]
    if len(tasks) <= 1:
        return None
    me = (task.get("type"), int(task.get("index", 0)))
    positions = [i for i, (kind, idx, _) in enumerate(tasks) if (kind, idx) == me]
    if not positions:
        raise ValueError(f"TF_CONFIG task {me} is not one of its chief/worker tasks")
    rank = positions[0]
    host = tasks[rank][2].rsplit(":", 1)[0]
    local = sum(1 for _, _, addr in tasks[:rank] if addr.rsplit(":", 1)[0] == host)
    return rank, len(tasks), local


def horovod_installed() -> bool:
    return importlib.util.find_spec("horovod") is not None


def choose(requested: str = "auto") -> tuple[str, str, tuple[int, int, int]]:
    """(engine, why, (rank, size, local rank)); engine is 'none', 'horovod', 'tf-distribute' or
    'unavailable' (several MPI ranks without Horovod: training refuses to start).

    `requested` is run.engine; NORLM_ENGINE (set by job scripts or tests) stands in for 'auto'.
    """
    if requested in (None, "", "auto"):
        requested = os.environ.get("NORLM_ENGINE") or "auto"
    if requested not in ENGINES:
        raise ValueError(f"run.engine must be one of {', '.join(ENGINES)}, not {requested!r}")
    mpi, slurm, tfc = mpi_world(), slurm_world(), tf_config_world()
    if requested == "horovod":
        world = mpi or slurm
        if world is None:
            return "none", "run.engine=horovod, but no launcher started several ranks", (0, 1, 0)
        return "horovod", "run.engine=horovod", world
    if requested == "tf-distribute":
        world = tfc or slurm
        if world is None:
            return "none", "run.engine=tf-distribute, but neither TF_CONFIG nor Slurm describes several workers", \
                (0, 1, 0)
        return "tf-distribute", "run.engine=tf-distribute, cluster from " + ("TF_CONFIG" if tfc else "Slurm"), world
    if mpi is not None and horovod_installed():
        return "horovod", f"auto: {mpi[1]} ranks started by an MPI/PMI launcher and Horovod is installed", mpi
    if tfc is not None:
        return "tf-distribute", f"auto: TF_CONFIG describes {tfc[1]} workers", tfc
    if slurm is not None:
        why = "Horovod is not installed" if mpi is not None else "no MPI/PMI launcher"
        return "tf-distribute", f"auto: a Slurm step of {slurm[1]} tasks ({why})", slurm
    if mpi is not None:
        return "unavailable", f"auto: {mpi[1]} MPI ranks, but Horovod is not installed (launch with srun or " \
            "TF_CONFIG for tf-distribute)", mpi
    return "none", "auto: no launcher of several ranks, no TF_CONFIG: one process", (0, 1, 0)
