"""Config section [bert_data]: NVIDIA-schema pretraining TFRecords, per phase."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PhaseData:
    max_seq_length: int = 128
    max_predictions_per_seq: int = 20
    dupe_factor: int = 10


@dataclass(frozen=True)
class BertDataConfig:
    masked_lm_prob: float = 0.15
    short_seq_prob: float = 0.1
    phase1: PhaseData = field(default_factory=PhaseData)
    phase2: PhaseData = field(default_factory=lambda: PhaseData(512, 77, 6))
