"""Config section [bert_data]: NVIDIA-schema pretraining TFRecords, per phase.

Defaults are NorBERT-1's values (bert-recipe §1, §3.2): phase 1 seq 128 / 20 predictions /
dupe factor 10, phase 2 seq 512 / 77 / 6, masked_lm_prob 0.15, short_seq_prob 0.1, token-level
masking.  Smaller scales override only what differs (e.g. a lower dupe factor).
"""
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
    whole_word_mask: bool = False  # mask all pieces of a word together (Google's flag; NVIDIA/NorBERT: off)
    files_per_shard: int = 1  # output TFRecord files per input corpus shard (instances dealt round-robin)
    corpus_glob: str = ""  # input shards; "" = WORK/corpus/*.txt.gz (a relative pattern is relative to the repo)
    vocab: str = ""  # vocab.txt or tokenizer.json to use; "" = WORK/vocab/tokenizer.json (else vocab.txt)
    phase1: PhaseData = field(default_factory=PhaseData)
    phase2: PhaseData = field(default_factory=lambda: PhaseData(512, 77, 6))

    def __post_init__(self):
        if self.files_per_shard < 1:
            raise ValueError(f"key 'files_per_shard' must be at least 1, got {self.files_per_shard}")

    def phase(self, number: int) -> PhaseData:
        if number not in (1, 2):
            raise ValueError(f"phase must be 1 or 2, not {number}")
        return self.phase1 if number == 1 else self.phase2
