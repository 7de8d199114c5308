"""The distributed engines: Horovod (MPI or Gloo controller, NCCL on GPUs), tf.distribute
(MultiWorkerMirroredStrategy: ring on CPUs, NCCL/RCCL on GPUs), or a single process.

This package is the only code that knows engines or imports Horovod, mpi4py or tf.distribute.
Everything else asks it for rank, size, allreduce, broadcast, gathers, barrier and the distributed
gradient tape, so the same training loop runs under `mpirun`, `horovodrun`, `srun` (with or without
PMI) or TF_CONFIG, and under plain `python`, where every call is a cheap no-op on a world of one.
Which engine runs is decided by `detect.choose(run.engine)` (see `norlm info`).

Two levels of start-up:
* `init(engine)` - the full engine (imports TensorFlow); used by training stages.
* `init_light(engine)` - rank/size from the launcher and mpi4py for collectives; used by
  preprocessing stages that must not pay for a TensorFlow import.  Under `horovodrun --gloo` (no MPI)
  it falls back to Horovod's object collectives, under tf-distribute to the full engine.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Sequence

from norlm.engines import detect as _detect


class _State:
    engine: str = "none"  # 'none', 'horovod', 'tf-distribute' or 'mpi4py' (init_light under MPI)
    reason: str = ""
    hvd: Any = None  # horovod.tensorflow once init() ran in a multi-process Horovod job
    tfd: Any = None  # norlm.engines.tf_distribute.Engine once init() ran under tf-distribute
    comm: Any = None  # mpi4py COMM_WORLD once init_light() ran under MPI
    pinned: str | None = None
    initialised: bool = False


_state = _State()

# Seconds a collective may wait for a rank that is alive but stuck before Horovod shuts the job down.
# A rank that dies is noticed at once by the launcher (mpirun aborts the job, horovodrun terminates the
# other workers); this bound is for ranks that hang.  Longer than any rank-0-only pause (checkpoint
# writes); override with NORLM_STALL_TIMEOUT or HOROVOD_STALL_SHUTDOWN_TIME_SECONDS.
STALL_TIMEOUT_S = 600


def launcher_world() -> tuple[int, int, int]:
    """(rank, size, local_rank) as announced by mpirun / horovodrun / srun / TF_CONFIG, or (0, 1, 0)."""
    for world in (_detect.mpi_world, _detect.slurm_world, _detect.tf_config_world):
        found = world()
        if found is not None:
            return found
    return 0, 1, 0


# what the launcher announced, read once: the environment does not change during a run, and plain
# module constants keep rank()/size() cheap and safe to call inside a tf.function (AutoGraph)
_LAUNCH = launcher_world()


def launched() -> bool:
    """True when started as one of several ranks by a launcher."""
    return _LAUNCH[1] > 1


def choose_engine(requested: str = "auto") -> tuple[str, str]:
    """(engine, why) that init(requested) would start, without starting it."""
    engine, why, _ = _detect.choose(requested)
    return engine, why


def engine() -> str:
    """The engine in use: 'none', 'horovod', 'tf-distribute' or 'mpi4py'."""
    return _state.engine


def _under_mpi() -> bool:
    return any(os.environ.get(v) for v in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK")) and not os.environ.get(
        "HOROVOD_GLOO_RENDEZVOUS_ADDR"
    )


def init(engine: str | None = "auto") -> None:
    """Start the engine chosen for this launch (run.engine, else NORLM_ENGINE, else auto)."""
    if _state.hvd is not None or _state.tfd is not None:
        return
    global _LAUNCH
    name, why, world = _detect.choose(engine or "auto")
    _state.reason = why
    if name == "unavailable":
        raise RuntimeError(f"norlm.engines: {why}")
    if name == "horovod":
        fail_fast_on_dead_peer(int(os.environ.get("NORLM_STALL_TIMEOUT", STALL_TIMEOUT_S)))
        import horovod.tensorflow as hvd

        hvd.init()
        _state.hvd = hvd
    elif name == "tf-distribute":
        from norlm.engines import tf_distribute as tfdist

        _LAUNCH = world
        _state.pinned = _pin(world[2])  # before TensorFlow starts its devices
        _state.tfd = tfdist.Engine(world, from_tf_config=_detect.tf_config_world() is not None,
                                   pinned_gpu=_state.pinned)
    else:
        _LAUNCH = (0, 1, 0)
    _state.engine = name
    _state.initialised = True


def init_light(engine: str | None = "auto") -> None:
    """Start mpi4py (or Horovod under Gloo, or tf-distribute) for preprocessing collectives."""
    if _state.initialised or not launched():
        _state.initialised = True
        return
    name, _, _ = _detect.choose(engine or "auto")
    if name != "tf-distribute" and _under_mpi():
        from mpi4py import MPI

        _state.comm = MPI.COMM_WORLD
        _state.engine = "mpi4py"
        _state.initialised = True
    else:
        init(engine)


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
    """Mean or sum of a tensor (or number) over all ranks; identity on one process.

    Usable inside tf.function under both engines (every rank must reach the same calls in the same order).
    """
    if op not in ("mean", "sum"):
        raise ValueError(f"allreduce op must be 'mean' or 'sum', not {op!r}")
    if _state.tfd is not None:
        if not hasattr(value, "dtype"):
            value = _state.tfd.tf.constant(value)
        return _state.tfd.allreduce(value, op)
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
    if size() == 1 or not keys or _state.engine == "none":
        return dict(metrics)
    import numpy as np

    values = np.asarray([float(metrics[k]) for k in keys], dtype=np.float64)
    if _state.comm is None:
        import tensorflow as tf

        values = np.asarray(allreduce(tf.constant(values), "mean", name="norlm_mean_metrics"))
    else:
        values = allreduce(values, "mean")
    out = dict(metrics)
    out.update({k: float(v) for k, v in zip(keys, values)})
    return out


def broadcast_variables(variables: Sequence[Any], root: int = 0) -> None:
    """Overwrite every rank's variables with the root's values."""
    if not variables:
        return
    if _state.tfd is not None:
        _state.tfd.broadcast_variables(list(variables), root)
    elif _state.hvd is not None:
        _state.hvd.broadcast_variables(list(variables), root_rank=root)


def broadcast_object(obj: Any, root: int = 0) -> Any:
    if _state.tfd is not None:
        return _state.tfd.broadcast_object(obj, root)
    if _state.hvd is not None:
        return _state.hvd.broadcast_object(obj, root_rank=root)
    if _state.comm is not None:
        return _state.comm.bcast(obj, root=root)
    return obj


def allgather_object(obj: Any) -> list[Any]:
    """Every rank's object, in rank order."""
    if _state.tfd is not None:
        return _state.tfd.allgather_object(obj)
    if _state.hvd is not None:
        return list(_state.hvd.allgather_object(obj))
    if _state.comm is not None:
        return list(_state.comm.allgather(obj))
    return [obj]


def barrier() -> None:
    if _state.tfd is not None:
        _state.tfd.barrier()
    elif _state.hvd is not None:
        import tensorflow as tf

        _state.hvd.allreduce(tf.constant(0.0), name="norlm_barrier", op=_state.hvd.Sum)
    elif _state.comm is not None:
        _state.comm.Barrier()


def distributed_tape(tape: Any, fp16_compression: bool = False) -> Any:
    """Wrap a GradientTape so gradients are averaged over ranks (identity on one process)."""
    if _state.tfd is not None:
        from norlm.engines.tf_distribute import DistributedTape

        return DistributedTape(tape, _state.tfd, fp16_compression)
    if _state.hvd is None:
        return tape
    hvd = _state.hvd
    compression = hvd.Compression.fp16 if fp16_compression else hvd.Compression.none
    return hvd.DistributedGradientTape(tape, compression=compression)


def _pin(local: int) -> str | None:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    gpu = gpus[local % len(gpus)]
    tf.config.set_visible_devices(gpu, "GPU")
    tf.config.experimental.set_memory_growth(gpu, True)
    return gpu.name


def pin_gpu() -> str | None:
    """Make only the GPU of this rank's local rank visible to TensorFlow; return its name.

    Under tf-distribute init() has pinned it already (devices cannot change once the strategy runs).
    """
    if _state.tfd is not None:
        return _state.pinned
    return _pin(local_rank())


def controller() -> str:
    """'mpi', 'gloo', 'tf-distribute' or 'none' (single process)."""
    if _state.tfd is not None:
        return "tf-distribute"
    if _state.hvd is not None:
        return "mpi" if _state.hvd.mpi_enabled() else "gloo" if _state.hvd.gloo_enabled() else "unknown"
    if _state.comm is not None:
        return "mpi"
    return "none"


def collective_implementation() -> str:
    """What moves the tensors: 'ring'/'nccl' (tf-distribute), 'horovod', or 'none'."""
    if _state.tfd is not None:
        return _state.tfd.implementation
    return "horovod" if _state.hvd is not None else "none"


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
    """Ask Horovod to abort instead of waiting forever when a peer rank stops responding.

    (tf-distribute: the coordination service's heartbeats do this; see norlm.engines.tf_distribute.)
    """
    os.environ.setdefault("HOROVOD_STALL_CHECK_TIME_SECONDS", str(max(5, min(60, timeout_s // 2))))
    os.environ.setdefault("HOROVOD_STALL_SHUTDOWN_TIME_SECONDS", str(timeout_s))


def abort(message: str, code: int = 1) -> None:
    """Exit this rank with a message; under MPI, take the other ranks down too (tf-distribute: the
    others notice the missing heartbeat and stop)."""
    print(f"[rank {rank()}] {message}", file=sys.stderr, flush=True)
    if _state.comm is not None:
        _state.comm.Abort(code)
    sys.exit(code)
