"""Config section [bert]: BERT model and pretraining (both phases).

Defaults are NVIDIA's / NorBERT's (bert-recipe §2–§3).  Sequence length, predictions per sequence and
the vocabulary are not repeated here: training reads them from the manifest bert-data wrote.

Vocabulary size: with ``vocab_size_from = "vocab"`` (default) the model's ``vocab_size`` is the
manifest's vocabulary size (the lines of the vocab.txt the records were built with) whatever the JSON says, and the effective config is written to
``WORK/bert/phaseN/bert_config.json`` (what export reads).  With ``"config"`` the JSON's value is used
as is and a different manifest vocabulary size is refused before training.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class PhaseTrain:
    train_batch_size: int = 48  # per worker and micro-batch
    accumulation_steps: int = 1  # global batch = train_batch_size x accumulation_steps x workers
    train_steps: int = 795000  # T: total updates at the end of this phase (cumulative when continuing)
    warmup_steps: int = 100
    learning_rate: float = 1e-4


@dataclass(frozen=True)
class BertTrainConfig:
    model_config: str = "configs/bert/norbert1.json"
    vocab_size_from: Literal["vocab", "config"] = "vocab"  # "vocab" (vocab.txt line count) or "config" (the JSON, checked)
    optimizer: Literal["lamb", "adam"] = "lamb"  # lamb (NVLAMB) or adam (AdamW)
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-6
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    scale_lr_by_workers: bool = False  # upstream NVIDIA multiplies the LR by the worker count; NorBERT did not
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"  # fp32, fp16 (dynamic loss scaling) or bf16
    init_loss_scale: float = 4294967296.0  # 2**32, NVIDIA's default
    loss_scale_window: int = 1000  # finite steps before the loss scale doubles
    xla: bool = False
    deterministic: bool = True  # TF deterministic ops: exact resume on CPU (costs ~10-20 % speed)
    phase2_mode: Literal["continue", "fresh"] = "continue"  # continue (NorBERT: same step, optimiser state, new T) or fresh (NVIDIA)
    save_checkpoints_steps: int = 1000
    keep_checkpoints: int = 5
    display_loss_steps: int = 10  # DLLogger line every N updates
    console_steps: int = 10  # console line every N updates
    shuffle_buffer: int = 100
    eval_batches: int = 100  # --eval: batches of eval_batch_size
    eval_batch_size: int = 8
    phase1: PhaseTrain = field(default_factory=PhaseTrain)
    phase2: PhaseTrain = field(default_factory=lambda: PhaseTrain(8, 1, 1325000, 100, 1e-4))

    def phase(self, n: int) -> PhaseTrain:
        if n not in (1, 2):
            raise ValueError(f"phase must be 1 or 2, not {n}")
        return self.phase1 if n == 1 else self.phase2
