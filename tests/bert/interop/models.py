"""Session fixtures shared by the export/import tests and the attention diagnostic's tests (registered
in tests/conftest.py): Norwegian sentences, a small vocabulary trained on bundled text, a tiny randomly
initialised BERT, and that BERT exported once per session."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from norlm.conll import read_sentences
from tests.conftest import DATA

TINY = dict(vocab_size=0, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
            max_position_embeddings=128, type_vocab_size=2, initializer_range=0.02)


def norec_sentences(split: str) -> list[str]:
    with open(DATA / "norec_sentence" / "binary" / f"{split}.csv", encoding="utf-8", newline="") as fh:
        return [row[1] for row in csv.reader(fh) if len(row) == 2]


def ud_sentences() -> list[str]:
    """The `# text =` line of every sentence (read by norlm.conll, the project's one CoNLL reader)."""
    return [s.meta["text"] for path in sorted((DATA / "ud27").glob("*/*-test.conllu.gz")) for s in read_sentences(path)]


@pytest.fixture(scope="session")
def test_sentences() -> list[str]:
    """Held-out Norwegian sentences (NoReC test + UD Bokmål/Nynorsk test): > 3,800 of them."""
    return norec_sentences("test") + ud_sentences()


@pytest.fixture(scope="session")
def small_vocab(tmp_path_factory) -> Path:
    """A ~1,500-entry cased WordPiece vocab trained on NoReC train, with BERT's specials first."""
    from tokenizers.implementations import BertWordPieceTokenizer

    from norlm.vocab.tokenizer import build_tokenizer
    from norlm.vocab.vocab_file import write_vocab

    trainer = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=True, strip_accents=False,
                                     lowercase=False)
    trainer.train_from_iterator(norec_sentences("train"), vocab_size=1500, min_frequency=2,
                                special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
    tokens = [tok for tok, _ in sorted(trainer.get_vocab().items(), key=lambda kv: kv[1])]
    folder = tmp_path_factory.mktemp("vocab")
    write_vocab(folder / "vocab.txt", tokens)
    build_tokenizer(folder / "vocab.txt").save(str(folder / "tokenizer.json"))
    return folder


@pytest.fixture(scope="session")
def tiny_model(small_vocab):
    """A 2-layer BERT whose every weight (biases and LayerNorms too) is random and non-trivial."""
    from norlm.bert.interop.import_hf import assign_weights
    from norlm.bert.model import BertConfig, BertPretrainingModel
    from norlm.vocab.vocab_file import read_vocab

    config = BertConfig(**{**TINY, "vocab_size": len(read_vocab(small_vocab / "vocab.txt").lines)})
    model = BertPretrainingModel(config, seed=3)
    rng = np.random.default_rng(7)
    arrays = {}
    for name, var in model.variables_by_name().items():
        value = var.numpy()
        noise = rng.normal(0.0, 0.1 if value.ndim == 1 else 0.05, value.shape).astype(np.float32)
        arrays[name] = value + noise
    assign_weights(model, arrays)
    return model


@pytest.fixture(scope="session")
def exported(tmp_path_factory, tiny_model, small_vocab) -> Path:
    """`tiny_model` exported with the library calls `norlm bert-export` uses: returns the export folder."""
    from norlm.bert.interop.export import model_arrays, write_hf_folder, write_tf1_folder

    out = tmp_path_factory.mktemp("export")
    arrays = model_arrays(tiny_model)
    bert_config = tiny_model.config.to_json_dict()
    write_tf1_folder(out / "tf1", arrays, bert_config, small_vocab / "vocab.txt", step=42)
    write_hf_folder(out / "hf", arrays, bert_config, small_vocab / "vocab.txt", small_vocab / "tokenizer.json",
                    card="# tiny\n")
    return out
