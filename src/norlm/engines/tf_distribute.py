"""The tf-distribute engine: tf.distribute.MultiWorkerMirroredStrategy, one replica per worker.

The training loops keep their own variables, tf.functions and GradientTapes; this module only borrows
the strategy's collectives (ring on CPUs, NCCL on GPUs, which is RCCL on ROCm builds) through
`strategy.run` + the replica context, both in eager code and inside tf.function.  Every worker must
issue the same collectives in the same order (each gets its instance key when it is first traced or
run), which the training loops do: all ranks run the same steps.

Failure handling: TensorFlow's coordination service sends heartbeats between the workers; when one
dies, the others' pending and next collectives fail with UnavailableError within about 10 s (2-9 s
measured here), the exception ends the process with a non-zero code.  A worker that is alive but
stuck makes the others' collectives fail after NORLM_COLLECTIVE_TIMEOUT seconds (default 600: longer
than any chief-only pause such as a checkpoint write or the held-out perplexity at start).
"""
from __future__ import annotations

import os
import pickle
from typing import Any, Sequence

COLLECTIVE_TIMEOUT_S = 600


def slurm_port_base() -> int:
    """First gRPC port of this job's tasks on a node: NORLM_TF_PORT, else derived from the job and step
    ids so that two jobs sharing a node rarely collide (TensorFlow's default 8888 always would)."""
    if os.environ.get("NORLM_TF_PORT"):
        return int(os.environ["NORLM_TF_PORT"])
    job = int(os.environ.get("SLURM_JOB_ID", "0") or 0)
    step = int(os.environ.get("SLURM_STEP_ID", "0") or 0) if os.environ.get("SLURM_STEP_ID", "").isdigit() else 0
    return 20000 + (job * 7 + step * 131) % 2000 * 16


class Engine:
    def __init__(self, world: tuple[int, int, int], from_tf_config: bool, pinned_gpu: str | None) -> None:
        import tensorflow as tf

        self.tf = tf
        impl = os.environ.get("NORLM_TF_COLLECTIVE", "auto").lower()
        kinds = tf.distribute.experimental.CommunicationImplementation
        if impl == "auto":
            impl = "nccl" if pinned_gpu else "ring"
        timeout = float(os.environ.get("NORLM_COLLECTIVE_TIMEOUT", COLLECTIVE_TIMEOUT_S))
        options = tf.distribute.experimental.CommunicationOptions(
            implementation={"ring": kinds.RING, "nccl": kinds.NCCL}.get(impl, kinds.AUTO),
            timeout_seconds=timeout if timeout > 0 else None)
        if from_tf_config:
            resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
        else:
            # GPU pinning is ours (dist.pin_gpu by local rank, before TensorFlow starts); with auto_set_gpu
            # off the GPU counts only number the task slots of a node, which must not run out
            resolver = tf.distribute.cluster_resolver.SlurmClusterResolver(
                port_base=slurm_port_base(), auto_set_gpu=False, gpus_per_node=4096, gpus_per_task=1)
        self.strategy = tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver,
                                                                  communication_options=options)
        self.rank, self.size, self.local_rank = world
        self.implementation = impl
        if self.strategy.num_replicas_in_sync != self.size:
            raise RuntimeError(f"tf-distribute: {self.strategy.num_replicas_in_sync} replicas for {self.size} "
                               "workers; each worker must see one device (dist.pin_gpu)")
        self._eager: dict[Any, Any] = {}

    # ------------------------------------------------------------------ tensor collectives
    def _reduce_in_replica(self, op: str, values):
        tf = self.tf
        kind = tf.distribute.ReduceOp.MEAN if op == "mean" else tf.distribute.ReduceOp.SUM

        def fn(vals):
            # identity: a tensor made in the replica context carries the worker's device
            return tf.distribute.get_replica_context().all_reduce(kind, tf.nest.map_structure(tf.identity, vals))

        return self.strategy.run(fn, args=(values,))

    def _gather_in_replica(self, values):
        tf = self.tf

        def fn(vals):
            return tf.distribute.get_replica_context().all_gather(tf.nest.map_structure(tf.identity, vals), axis=0)

        return self.strategy.run(fn, args=(values,))

    def _eager_call(self, kind: str, op: str, values):
        """Eager collectives run through one tf.function per kind: traced once per input signature, so a
        per-step call does not build a new graph every time."""
        key = (kind, op)
        if key not in self._eager:
            impl = (lambda v, op=op: self._reduce_in_replica(op, v)) if kind == "reduce" else self._gather_in_replica
            self._eager[key] = self.tf.function(impl)
        return self._eager[key](values)

    def allreduce(self, values, op: str):
        """Sum or mean of a tensor or a list of tensors; usable inside tf.function."""
        if self.tf.inside_function():
            return self._reduce_in_replica(op, values)
        return self._eager_call("reduce", op, values)

    def allgather(self, values):
        """Rank-ordered concatenation along axis 0 (tensors of rank >= 1)."""
        if self.tf.inside_function():
            return self._gather_in_replica(values)
        return self._eager_call("gather", "", values)

    def broadcast_variables(self, variables: Sequence[Any], root: int) -> None:
        tf = self.tf
        rows = []
        for v in variables:
            x = tf.reshape(v.read_value(), [1, -1])
            rows.append(tf.cast(x, tf.int32) if x.dtype == tf.bool else x)
        gathered = self.allgather(rows)
        for v, g in zip(variables, gathered):
            value = tf.reshape(g[root], tf.shape(v))
            v.assign(tf.cast(value, tf.bool) if v.dtype == tf.bool else value)

    # ------------------------------------------------------------------ object collectives
    def allgather_object(self, obj: Any) -> list[Any]:
        """Pickles gathered as int32 rows (the collectives take no uint8), padded to the longest."""
        import numpy as np

        tf = self.tf
        raw = pickle.dumps(obj)
        n = len(raw)
        lengths = self.allgather(tf.constant([[n]], tf.int64)).numpy().reshape(-1)
        width = int((int(lengths.max()) + 3) // 4)
        buf = np.zeros(width * 4, np.uint8)
        buf[:n] = np.frombuffer(raw, np.uint8)
        rows = self.allgather(tf.constant(buf.view(np.int32).reshape(1, width))).numpy()
        return [pickle.loads(rows[r].view(np.uint8)[:int(lengths[r])].tobytes()) for r in range(self.size)]

    def broadcast_object(self, obj: Any, root: int) -> Any:
        return self.allgather_object(obj if self.rank == root else None)[root]

    def barrier(self) -> None:
        self.allreduce(self.tf.constant(0.0), "sum")


class DistributedTape:
    """A GradientTape whose gradient() returns the mean over workers (dense, as the loops use them)."""

    def __init__(self, tape, engine: Engine, fp16_compression: bool = False) -> None:
        self._tape, self._engine, self._fp16 = tape, engine, fp16_compression

    def __getattr__(self, name):
        return getattr(self._tape, name)

    def gradient(self, target, sources, *args, **kwargs):
        tf = self._engine.tf
        grads = self._tape.gradient(target, sources, *args, **kwargs)
        flat = tf.nest.flatten(grads, expand_composites=False)
        present = [i for i, g in enumerate(flat) if g is not None]
        dense = [tf.convert_to_tensor(flat[i]) for i in present]
        dtypes = [d.dtype for d in dense]
        if self._fp16:  # as Horovod's fp16 compression: send float32 as float16, average, cast back
            dense = [tf.cast(d, tf.float16) if d.dtype == tf.float32 else d for d in dense]
        reduced = self._engine.allreduce(dense, "mean") if dense else []
        for i, r, dt in zip(present, reduced, dtypes):
            flat[i] = tf.cast(r, dt)
        return tf.nest.pack_sequence_as(grads, flat)
