"""Fixtures for the evaluation tests: a tiny randomly initialised Hugging Face BERT saved locally."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NORBERT_VOCAB = REPO / "data" / "norbert_vocab" / "norwegian_wordpiece_vocab_30k.txt"


@pytest.fixture(scope="session")
def tiny_hf_bert(tmp_path_factory) -> Path:
    """`transformers.BertForPreTraining(config).save_pretrained` + vocab.txt + tokenizer.json; no download."""
    import torch
    import transformers

    from norlm.vocab.tokenizer import build_tokenizer

    out = tmp_path_factory.mktemp("tiny-hf-bert")
    n_vocab = sum(1 for _ in open(NORBERT_VOCAB, encoding="utf-8"))
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=n_vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=128)
    transformers.BertForPreTraining(config).save_pretrained(out)
    shutil.copy(NORBERT_VOCAB, out / "vocab.txt")
    build_tokenizer(out / "vocab.txt").save(str(out / "tokenizer.json"))
    return out
