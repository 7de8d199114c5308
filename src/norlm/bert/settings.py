"""Config section [bert]: BERT model and pretraining (both phases)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BertTrainConfig:
    model_config: str = "configs/bert/demo_config.json"
