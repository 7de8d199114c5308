"""The distributed engine: Horovod (MPI or Gloo controller, NCCL on GPUs) or a single process.

This is the only module that imports Horovod or mpi4py.  Everything else asks it for rank, size,
allreduce, broadcast and barrier, so the same code runs under `horovodrun`, `mpirun`, `srun` and
plain `python`.  When the process was not started by a launcher, every call is a cheap no-op on a
world of size 1.

Two levels of start-up:
* `init()` - full Horovod (imports TensorFlow); used by training stages.
* `init_light()` - rank/size from the launcher and mpi4py for collectives; used by preprocessing
  stages that must not pay for a TensorFlow import.  Under `horovodrun --gloo` (no MPI) it falls
  back to Horovod's object collectives.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Sequence

_RANK_VARS = ("OMPI_COMM_WORLD_RANK", "HOROVOD_RANK", "PMIX_RANK", "PMI_RANK")
_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "HOROVOD_SIZE", "PMI_SIZE")
_LOCAL_RANK_VARS = ("OMPI_COMM_WORLD_LOCAL_RANK", "HOROVOD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID")


class _State:
    hvd: Any = None  # horovod.tensorflow once init() ran in a multi-process job
    comm: Any = None  # mpi4py COMM_WORLD once init_light() ran under MPI
    initialised: bool = False


_state = _State()

# Seconds a collective may wait for a rank that is alive but stuck before Horovod shuts the job down.
# A rank that dies is noticed at once by the launcher (mpirun aborts the job, horovodrun terminates the
# other workers); this bound is for ranks that hang.  Longer than any rank-0-only pause (checkpoint
# writes); override with NORLM_STALL_TIMEOUT or HOROVOD_STALL_SHUTDOWN_TIME_SECONDS.
STALL_TIMEOUT_S = 600


def _env_int(names: Sequence[str]) -> int | None:
    for name in names:
        value = os.environ.get(name)
        if value not in (None, ""):
            try:
                return int(value)
            except ValueError:
                continue
    return None


def launcher_world() -> tuple[int, int, int]:
    """(rank, size, local_rank) as announced by mpirun / horovodrun / srun, or (0, 1, 0)."""
    size = _env_int(_SIZE_VARS)
    rank = _env_int(_RANK_VARS)
    if size is None and os.environ.get("SLURM_STEP_ID") not in (None, "", "batch", "extern"):
        # inside an `srun` step: SLURM_PROCID/SLURM_STEP_NUM_TASKS describe the step's tasks
        size = _env_int(["SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"])
        rank = _env_int(["SLURM_PROCID"])
    if size is None or size <= 1:
        return 0, 1, 0
    local = _env_int(_LOCAL_RANK_VARS)
    return rank or 0, size, local or 0


# what the launcher announced, read once: the environment does not change during a run, and plain
# module constants keep rank()/size() cheap and safe to call inside a tf.function (AutoGraph)
_LAUNCH = launcher_world()


def launched() -> bool:
    """True when started as one of several ranks by a launcher."""
    return _LAUNCH[1] > 1


def _under_mpi() -> bool:
    return any(os.environ.get(v) for v in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK")) and not os.environ.get(
        "HOROVOD_GLOO_RENDEZVOUS_ADDR"
    )


def init() -> None:
    """Start Horovod when launched with several ranks; otherwise do nothing."""
    if _state.hvd is not None or not launched():
        _state.initialised = True
        return
    fail_fast_on_dead_peer(int(os.environ.get("NORLM_STALL_TIMEOUT", STALL_TIMEOUT_S)))
    import horovod.tensorflow as hvd

    hvd.init()
    _state.hvd = hvd
    _state.initialised = True


def init_light() -> None:
    """Start mpi4py (or Horovod under Gloo) for preprocessing collectives, without TensorFlow."""
    if _state.initialised or not launched():
        _state.initialised = True
        return
    if _under_mpi():
        from mpi4py import MPI

        _state.comm = MPI.COMM_WORLD
        _state.initialised = True
    else:
        init()


def rank() -> int:
    if _state.hvd is not None:
        return _state.hvd.rank()
    if _state.comm is not None:
        return _state.comm.Get_rank()
    return _LAUNCH[0]


def size() -> int:
    if _state.hvd is not None:
        return _state.hvd.size()
    if _state.comm is not None:
        return _state.comm.Get_size()
    return _LAUNCH[1]


def local_rank() -> int:
    if _state.hvd is not None:
        return _state.hvd.local_rank()
    return _LAUNCH[2]


def is_root() -> bool:
    return rank() == 0


def log0(*args: Any, **kwargs: Any) -> None:
    """print() on rank 0 only."""
    if is_root():
        kwargs.setdefault("flush", True)
        print(*args, **kwargs)


def split(items: Sequence[Any]) -> list[Any]:
    """This rank's share of a list (round-robin, so ranks get near-equal counts)."""
    return list(items[rank()::size()])


def split_indexed(items: Sequence[Any]) -> list[tuple[int, Any]]:
    """This rank's share of a list as (position, item) pairs, for `allgather_ordered`."""
    return [(i, items[i]) for i in range(rank(), len(items), size())]


def allgather_ordered(indexed: Sequence[tuple[int, Any]]) -> list[Any]:
    """Every rank's (position, result) pairs merged back into input order.

    A stage that processes `split_indexed(items)` and merges the results in this order gets exactly
    what one process walking the whole list would, whatever the number of ranks.
    """
    pairs = [pair for part in allgather_object(list(indexed)) for pair in part]
    pairs.sort(key=lambda pair: pair[0])
    return [value for _, value in pairs]


# --------------------------------------------------------------------------- tensor collectives

def allreduce(value: Any, op: str = "mean", name: str | None = None) -> Any:
    """Mean or sum of a tensor (or number) over all ranks; identity on one process."""
    if op not in ("mean", "sum"):
        raise ValueError(f"allreduce op must be 'mean' or 'sum', not {op!r}")
    if _state.hvd is None:
        if _state.comm is not None:
            import numpy as np

            arr = np.asarray(value, dtype=np.float64)
            total = _state.comm.allreduce(arr)
            return total / size() if op == "mean" else total
        return value
    hvd = _state.hvd
    if not hasattr(value, "dtype"):  # a Python number: Horovod reduces tensors only
        import tensorflow as tf

        value = tf.constant(value)
    return hvd.allreduce(value, op=hvd.Average if op == "mean" else hvd.Sum, name=name)


def mean_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Numbers of a metrics dict averaged over ranks in one allreduce; other values kept as they are.

    Every rank must call it at the same step (it is a collective).  Booleans are not averaged.
    """
    keys = [k for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if size() == 1 or not keys or (_state.hvd is None and _state.comm is None):
        return dict(metrics)
    import numpy as np

    values = np.asarray([float(metrics[k]) for k in keys], dtype=np.float64)
    if _state.hvd is not None:
        import tensorflow as tf

        values = allreduce(tf.constant(values), "mean", name="norlm_mean_metrics").numpy()
    else:
        values = allreduce(values, "mean")
    out = dict(metrics)
    out.update({k: float(v) for k, v in zip(keys, values)})
    return out


def broadcast_variables(variables: Sequence[Any], root: int = 0) -> None:
    """Overwrite every rank's variables with the root's values."""
    if _state.hvd is not None and variables:
        _state.hvd.broadcast_variables(list(variables), root_rank=root)


def broadcast_object(obj: Any, root: int = 0) -> Any:
    if _state.hvd is not None:
        return _state.hvd.broadcast_object(obj, root_rank=root)
    if _state.comm is not None:
        return _state.comm.bcast(obj, root=root)
    return obj


def allgather_object(obj: Any) -> list[Any]:
    """Every rank's object, in rank order."""
    if _state.hvd is not None:
        return list(_state.hvd.allgather_object(obj))
    if _state.comm is not None:
        return list(_state.comm.allgather(obj))
    return [obj]


def barrier() -> None:
    if _state.hvd is not None:
        import tensorflow as tf

        _state.hvd.allreduce(tf.constant(0.0), name="norlm_barrier", op=_state.hvd.Sum)
    elif _state.comm is not None:
        _state.comm.Barrier()


def distributed_tape(tape: Any, fp16_compression: bool = False) -> Any:
    """Wrap a GradientTape so gradients are averaged over ranks (identity on one process)."""
    if _state.hvd is None:
        return tape
    hvd = _state.hvd
    compression = hvd.Compression.fp16 if fp16_compression else hvd.Compression.none
    return hvd.DistributedGradientTape(tape, compression=compression)


def pin_gpu() -> str | None:
    """Make only the GPU of this rank's local rank visible to TensorFlow; return its name."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    gpu = gpus[local_rank() % len(gpus)]
    tf.config.set_visible_devices(gpu, "GPU")
    tf.config.experimental.set_memory_growth(gpu, True)
    return gpu.name


def controller() -> str:
    """'mpi', 'gloo' or 'none' (single process)."""
    if _state.hvd is not None:
        return "mpi" if _state.hvd.mpi_enabled() else "gloo" if _state.hvd.gloo_enabled() else "unknown"
    if _state.comm is not None:
        return "mpi"
    return "none"


def horovod_build() -> dict[str, Any]:
    """What the installed Horovod was built with (frameworks, controllers, GPU operations)."""
    try:
        import horovod.tensorflow as hvd
    except Exception as exc:  # ImportError or a broken build (missing symbols)
        return {"installed": False, "error": f"{type(exc).__name__}: {exc}"}
    from importlib import metadata

    info: dict[str, Any] = {"installed": True, "version": metadata.version("horovod")}
    info["frameworks"] = {"tensorflow": True}
    info["controllers"] = {"mpi": bool(hvd.mpi_built()), "gloo": bool(hvd.gloo_built())}
    info["operations"] = {
        "nccl": bool(hvd.nccl_built()),
        "ddl": bool(hvd.ddl_built()),
        "ccl": bool(hvd.ccl_built()),
        "cuda": bool(hvd.cuda_built()),
        "rocm": bool(hvd.rocm_built()),
    }
    return info


def fail_fast_on_dead_peer(timeout_s: int = 60) -> None:
    """Ask Horovod to abort instead of waiting forever when a peer rank stops responding."""
    os.environ.setdefault("HOROVOD_STALL_CHECK_TIME_SECONDS", str(max(5, min(60, timeout_s // 2))))
    os.environ.setdefault("HOROVOD_STALL_SHUTDOWN_TIME_SECONDS", str(timeout_s))


def abort(message: str, code: int = 1) -> None:
    """Exit this rank with a message; under MPI, take the other ranks down too."""
    print(f"[rank {rank()}] {message}", file=sys.stderr, flush=True)
    if _state.comm is not None:
        _state.comm.Abort(code)
    sys.exit(code)
