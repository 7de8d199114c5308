"""Config section [evaluate]: downstream tasks and protocols."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvaluateConfig:
    tasks: tuple[str, ...] = ("pos", "ner", "sentiment")
