"""Config section [hpc]: which cluster profile to render for, and per-stage job sizes.

Every job-size field defaults to None, meaning "the stage's default from recipes/stages.toml";
a config sets only what differs, e.g. ``[hpc.bert_train] gpus = 16`` for the published run.
Precedence: recipes/stages.toml < the profile's [stages.<stage>] < the config's [hpc.<stage>].
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JobSize:
    """Slurm resources of one stage's job; None keeps the stage default."""

    partition: str | None = None  # a partition name of the cluster profile
    # total GPUs of a GPU stage, one rank each; sizes the job from the partition's nodes
    # (whole nodes, its cpus_per_gpu and mem_per_gpu_gb), so one config fits every cluster
    gpus: int | None = None
    nodes: int | None = None
    tasks_per_node: int | None = None
    cpus_per_task: int | None = None
    gpus_per_node: int | None = None
    mem_per_cpu_gb: int | None = None
    time: str | None = None  # Slurm time as a quoted string, e.g. "2-00:00:00"
    array: int | None = None  # job-array size (bert-data shards); 1 = no array
    signal_seconds: int | None = None  # send SIGUSR1 this long before the time limit (training)
    chain: int | None = None  # follow-up jobs that resume training after a time limit


@dataclass(frozen=True)
class HpcConfig:
    cluster: str = "local"  # a profile under recipes/clusters/
    modules: tuple[str, ...] = ()  # module names to load instead of the profile's
    route: str = ""  # "modules" or "container"; empty: the profile's route
    image: str = ""  # container image instead of the profile's
    corpus: JobSize = field(default_factory=JobSize)
    vocab: JobSize = field(default_factory=JobSize)
    bert_data: JobSize = field(default_factory=JobSize)
    bert_train: JobSize = field(default_factory=JobSize)
    bert_export: JobSize = field(default_factory=JobSize)
    elmo_vocab: JobSize = field(default_factory=JobSize)
    elmo_train: JobSize = field(default_factory=JobSize)
    elmo_export: JobSize = field(default_factory=JobSize)
    evaluate: JobSize = field(default_factory=JobSize)
