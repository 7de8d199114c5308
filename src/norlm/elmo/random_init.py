"""The untrained twin of an ELMo: the same options, the random weights training started from.

elmo-export writes it to WORK/elmo/random/ exactly as it exports the trained model, so the
evaluation can put the trained ELMo and its twin under the same frozen-feature probes and show
what the training bought (the `elmo-random` model of `norlm evaluate`).  The initialisation seed
is the one elmo-train used (its run record), so the twin is the trained model at step 0.
"""
from __future__ import annotations

from pathlib import Path

from norlm.files import read_json


def random_weights(options: dict, n_vocab: int, seed: int) -> dict:
    """Every variable (TF1 names, softmax included) of a freshly initialised biLM."""
    from norlm.elmo.model import ElmoModel

    model = ElmoModel(options, n_vocab=n_vocab, seed=seed)
    return {name: var.numpy() for name, var in model.vars.items()}


def training_seed(train_dir: Path, default: int) -> int:
    """The seed elmo-train initialised with (its run record), else `default`."""
    record = Path(train_dir) / "run-elmo-train.json"
    try:
        seed = read_json(record).get("seed")
    except (OSError, ValueError):
        return default
    return default if seed is None else int(seed)

