"""Config section [vocab]: WordPiece vocabulary training."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VocabConfig:
    method: str = "spbpe"  # spbpe (NorBERT's SentencePiece-BPE, converted) | wordpiece
    size: int = 30000
    unused: int = 100
    min_frequency: int = 2
