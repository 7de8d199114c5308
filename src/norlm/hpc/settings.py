"""Config section [hpc]: cluster profile and job sizes used when rendering sbatch scripts."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HpcConfig:
    cluster: str = "local"
