"""Config section [elmo]: NorELMo vocabulary, model and training.

Defaults are the published NorELMo30 values (the ltgoslo simple_elmo_training defaults: LSTM 2048,
projection 512, batch 192 per GPU, 3 epochs, 4096 negative samples, the 2048-filter relu char CNN
with 2 highway layers); config files only set what differs.
"""
from __future__ import annotations

from typing import Literal
from dataclasses import dataclass

DEFAULT_FILTERS = ((1, 32), (2, 32), (3, 64), (4, 128), (5, 256), (6, 512), (7, 1024))


@dataclass(frozen=True)
class ElmoConfig:
    # --- vocabulary (elmo-vocab): <S>, </S>, <UNK> + the `vocab_size` most frequent words
    vocab_size: int = 30000
    min_count: int = 1
    # --- model (bilm-tf option names in comments)
    max_characters_per_token: int = 50      # char_cnn.max_characters_per_token
    char_dim: int = 16                      # char_cnn.embedding.dim
    filters: tuple[tuple[int, ...], ...] = DEFAULT_FILTERS  # char_cnn.filters [width, number]
    n_highway: int = 2                      # char_cnn.n_highway
    activation: Literal["relu", "tanh"] = "relu"                # char_cnn.activation (relu | tanh)
    lstm_dim: int = 2048                    # lstm.dim
    projection_dim: int = 512               # lstm.projection_dim
    n_layers: int = 2                       # lstm.n_layers
    cell_clip: float = 3.0                  # lstm.cell_clip (0 = none)
    proj_clip: float = 3.0                  # lstm.proj_clip (0 = none)
    use_skip_connections: bool = True       # lstm.use_skip_connections
    dropout: float = 0.1
    # --- training
    batch_size: int = 192                   # rows per worker (per GPU)
    unroll_steps: int = 20
    n_epochs: int = 3
    n_train_tokens: int = 0                 # 0 = the word count elmo-vocab measured
    max_steps: int = 0                      # >0 caps the number of updates (demo, tests)
    n_negative_samples: int = 4096          # n_negative_samples_batch
    learning_rate: float = 0.2
    initial_accumulator: float = 1.0
    clip_norm: float = 10.0                 # all_clip_norm_val
    shuffle_on_load: bool = True
    save_every: int = 1250
    keep_checkpoints: int = 2
    log_every: int = 100
    heldout_sentences: int = 0              # sentences of the last shard kept out for perplexity
    heldout_batch_size: int = 64
    # --- CPU threads of elmo-train (0 = TensorFlow's default: all cores).  intra_op_threads = 1 runs each
    # op on one core and lets the two directions' LSTM chains run side by side (inter_op_threads): on
    # this 2-core CPU the demo model's step is ~25 % faster so (bench/RESULTS.md); large models want
    # the default, their matmuls use every core
    intra_op_threads: int = 0
    inter_op_threads: int = 0
