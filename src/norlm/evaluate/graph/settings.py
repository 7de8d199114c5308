"""Config table [evaluate.graph]: the graph parser of the paper's Tables 4 and 6 and its protocol.

Defaults are the NorLM runs' effective settings (graph-tasks spec, section 4): 100-dim word,
lemma, POS, character and projected LM inputs; 3 BiLSTM layers of 200 per direction; a 200-dim
diagonal bilinear scorer; Adam 1e-3 with betas (0, 0.95); batch 50; 100 epochs; the paper's five
seeds.  The demo config shrinks sizes, epochs and data and the report says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Encoding = Literal["head_first", "head_final", "head_final-inside_label", "point_to_root"]
PAPER_SEEDS = (1234, 5678, 9101112, 13141516, 17181920)


@dataclass(frozen=True)
class GraphProtocol:
    encoding: Encoding = "head_final-inside_label"
    # models the graph tasks run for `--model all` ("none" = the parser without LM vectors)
    models: tuple[str, ...] = ("bert", "elmo", "baseline", "none")
    seeds: tuple[int, ...] = PAPER_SEEDS  # the first N are used; N = n_seeds, or --seeds
    n_seeds: int = 0  # 0 = [evaluate] seeds
    # subsets (0 = whole split): the first N sentences after a seeded shuffle, as for the other tasks
    train_sentences: int = 0
    dev_sentences: int = 0
    test_sentences: int = 0
    # inputs
    word_dim: int = 100
    lemma_dim: int = 100
    pos_dim: int = 100
    char_dim: int = 80
    char_hidden: int = 100
    lm_dim: int = 100  # trainable projection of the frozen LM vector
    pos_style: Literal["xpos", "upos"] = "xpos"  # xpos: the column is `_` (the LM runs); upos: UD lookup
    elmo_layers: Literal["average", "top"] = "average"  # ELMo layer mix (unverified in the paper)
    # vocabulary: forms/lemmas seen fewer times in train become <UNK> (7 in the SA repo, 0 in NEG)
    min_count: dict[str, int] = field(default_factory=lambda: {"finegrained": 7, "negation": 0})
    # encoder and scorer
    lstm_layers: int = 3
    lstm_hidden: int = 200  # per direction
    scorer_dim: int = 200
    # dropout
    embedding_dropout: float = 0.2  # word/lemma/POS types and char vectors replaced by learned <DROP>
    char_dropout: float = 0.3  # locked dropout in the char model
    char_recurrent_dropout: float = 0.3  # WeightDrop on the char LSTM's recurrent kernel
    lstm_dropout: float = 0.4  # locked dropout before every BiLSTM layer
    recurrent_dropout: float = 0.2  # WeightDrop on the BiLSTMs' recurrent kernels
    scorer_dropout: float = 0.3
    # optimiser and training
    learning_rate: float = 1e-3
    beta1: float = 0.0
    beta2: float = 0.95
    weight_decay: float = 3e-9  # L2 added to the gradient, as torch Adam does
    batch_size: int = 50
    epochs: int = 100
    length_buckets: bool = False  # True: batches of similar length (less padding; not the paper's)
    embed_batch_size: int = 32  # sentences per LM forward pass when computing vectors

    def __post_init__(self):
        for name in ("word_dim", "lemma_dim", "pos_dim", "char_dim", "char_hidden", "lm_dim", "lstm_layers",
                     "lstm_hidden", "scorer_dim", "batch_size", "epochs", "embed_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"graph.{name} must be at least 1")
        if not self.seeds:
            raise ValueError("graph.seeds must list at least one seed")
