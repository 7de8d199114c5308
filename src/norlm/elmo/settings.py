"""Config section [elmo]: NorELMo vocabulary, model and training."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ElmoConfig:
    vocab_size: int = 30000
