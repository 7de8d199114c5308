"""Config section [evaluate]: downstream tasks, models and the paper's fine-tuning protocols.

Defaults are the paper's protocol (all of each split, 20 epochs, AdamW 2e-5, max length 256,
batch 8 for POS and 32 for NER / sentiment).  The demo config shrinks the splits and epochs and
says so in the report.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from norlm.evaluate.graph.settings import GraphProtocol


@dataclass(frozen=True)
class BertProtocol:
    """Fine-tuning all BERT weights (ours, imported, or the random-init baseline)."""

    learning_rate: float = 2e-5
    weight_decay: float = 0.01
    warmup_fraction: float = 0.0  # share of the steps with a linear warm-up; then linear decay to 0
    max_length: int = 256
    batch_size_pos: int = 8
    batch_size: int = 32  # NER and sentiment
    epochs: int = 20
    dropout: float = 0.1  # on the encoder output, before the classifier
    baseline_learning_rate: float = 0.0  # 0 = same as learning_rate


@dataclass(frozen=True)
class ElmoProtocol:
    """Classifiers on frozen ELMo vectors."""

    hidden: int = 128  # POS/NER feed-forward hidden layer
    lstm_hidden: int = 128  # sentiment BiLSTM units per direction
    dropout: float = 0.1
    learning_rate: float = 1e-3  # Adam
    batch_size: int = 32
    epochs: int = 20
    ner_epochs: int = 0  # 0 = epochs; the per-token NER probe needs more (entities are ~7 % of the tokens)
    embed_batch_size: int = 64  # sentences per ELMo forward pass
    # seeds of these probes (0 = [evaluate] seeds): they are cheap next to fine-tuning, so the demo gives
    # its twin comparisons three seeds while BERT fine-tuning keeps one (--seeds sets both)
    seeds: int = 0


@dataclass(frozen=True)
class EvaluateConfig:
    tasks: tuple[str, ...] = ("pos", "ner", "sentiment", "finegrained", "negation")
    models: tuple[str, ...] = ("bert", "elmo", "baseline")
    langs: tuple[str, ...] = ("nob", "nno")
    seeds: int = 1
    # model locations; "" = this run's exports (WORK/bert/export/hf, WORK/elmo/export)
    bert_model: str = ""
    elmo_model: str = ""
    # UD 2.7 train files (full protocol).  "" = data_dir/ud27/UD_Norwegian-*/no_*-ud-train.conllu[.gz];
    # when absent POS uses the demo protocol: train on UD dev minus a held-out slice, select on that slice.
    ud_train_dir: str = ""
    pos_heldout_fraction: float = 0.2
    # subsets (0 = whole split), per task name: first N sentences after a seeded shuffle
    train_sentences: dict[str, int] = field(default_factory=dict)
    dev_sentences: dict[str, int] = field(default_factory=dict)
    test_sentences: dict[str, int] = field(default_factory=dict)
    # held-out MLM/NSP, ELMo perplexity and attention against their chance levels (WORK/eval/signals.json)
    learning_signals: bool = True
    bert: BertProtocol = field(default_factory=BertProtocol)
    elmo: ElmoProtocol = field(default_factory=ElmoProtocol)
    graph: GraphProtocol = field(default_factory=GraphProtocol)  # finegrained / negation (Tables 4, 6)
