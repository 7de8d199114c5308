"""Our exported Hugging Face folder in `transformers` 5: loads, tokenizes like us, computes our logits."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.bert.interop.helpers import PAIRS, assert_logits_match, batch


@pytest.fixture(scope="module")
def hf_model(exported):
    from transformers import AutoModelForPreTraining

    model, info = AutoModelForPreTraining.from_pretrained(exported / "hf", output_loading_info=True)
    return model, info


def test_folder_contents_and_config(exported, tiny_model):
    hf = exported / "hf"
    expected = {"config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "README.md"}
    assert {p.name for p in hf.iterdir()} >= expected
    config = json.loads((hf / "config.json").read_text())
    assert config["model_type"] == "bert" and config["architectures"] == ["BertForPreTraining"]
    assert config["hidden_act"] == "gelu_new" and config["layer_norm_eps"] == 1e-12
    assert config["vocab_size"] == tiny_model.config.vocab_size and config["num_hidden_layers"] == 2
    tok_cfg = json.loads((hf / "tokenizer_config.json").read_text())
    assert tok_cfg["do_lower_case"] is False and tok_cfg["strip_accents"] is False
    assert tok_cfg["model_max_length"] == 128
    from safetensors import safe_open

    with safe_open(str(hf / "model.safetensors"), "np") as fh:
        assert fh.metadata() == {"format": "pt"}
        assert len(fh.keys()) == 46 and "cls.seq_relationship.weight" in fh.keys()
    # the completion file is written last
    assert (hf / "model.safetensors").stat().st_mtime_ns >= max(p.stat().st_mtime_ns for p in hf.iterdir())


def test_loads_with_every_weight(hf_model):
    model, info = hf_model
    assert type(model).__name__ == "BertForPreTraining"
    assert not info["missing_keys"]
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight


def test_mlm_and_nsp_logits_equal_ours(hf_model, tiny_model, small_vocab):
    from norlm.vocab.tokenizer import load_tokenizer

    feats = batch(load_tokenizer(small_vocab), PAIRS)
    assert feats["input_mask"].min() == 0  # the batch has padding
    ours_mlm, ours_nsp = assert_logits_match(tiny_model, hf_model[0], feats)
    assert np.abs(ours_mlm[feats["input_mask"].astype(bool)]).max() > 0.1 and np.abs(ours_nsp).max() > 0.01  # not trivially zero


def _assert_same_ids(hf_dir, ours, sentences):
    from transformers import AutoTokenizer

    theirs = AutoTokenizer.from_pretrained(hf_dir)
    hf_ids = theirs(sentences)["input_ids"]
    our_ids = [enc.ids for enc in ours.encode_batch(sentences)]
    differ = [(s, a, b) for s, a, b in zip(sentences, our_ids, hf_ids) if a != b]
    assert not differ, f"{len(differ)} sentences differ, first: {differ[0]}"
    pair = theirs("Jeg heter Ola.", "Hva heter du?")
    enc = ours.encode("Jeg heter Ola.", "Hva heter du?")
    assert pair["input_ids"] == enc.ids and pair["token_type_ids"] == enc.type_ids
    return our_ids


def test_token_ids_equal_ours_small_vocab(exported, small_vocab, test_sentences):
    from norlm.vocab.tokenizer import load_tokenizer

    assert len(test_sentences) >= 1000
    ids = _assert_same_ids(exported / "hf", load_tokenizer(small_vocab), test_sentences)
    assert sum(len(i) for i in ids) > 20 * len(ids)  # real tokenisation, with subwords
    assert any(1 in i for i in ids)  # [UNK] occurs for the small vocabulary


def test_token_ids_equal_ours_norbert_vocab(tmp_path, test_sentences):
    """NorBERT's own vocab.txt: duplicate lines, control-character pieces, accents kept."""
    from norlm.bert.interop.hf_files import write_tokenizer_files
    from norlm.vocab.tokenizer import build_tokenizer

    from tests.conftest import DATA

    vocab_txt = DATA / "norbert_vocab" / "norwegian_wordpiece_vocab_30k.txt"
    ours = build_tokenizer(vocab_txt)
    ours.save(str(tmp_path / "ours.json"))
    write_tokenizer_files(tmp_path / "hf", vocab_txt, tmp_path / "ours.json", 512)
    ids = _assert_same_ids(tmp_path / "hf", ours, test_sentences)
    vocab = ours.get_vocab()
    assert vocab["å"] in {t for i in ids for t in i}  # no accent stripping
    assert ours.encode("Ærlig").ids[1] != ours.encode("ærlig").ids[1]  # cased


def test_fill_mask_pipeline_runs(exported):
    from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(exported / "hf")
    fill = pipeline("fill-mask", model=AutoModelForMaskedLM.from_pretrained(exported / "hf"), tokenizer=tokenizer)
    text = "Jeg vi elsker dette landet.".replace("vi", tokenizer.mask_token)
    results = fill(text, top_k=4)
    assert len(results) == 4
    assert all(r["sequence"].startswith("Jeg") and "landet" in r["sequence"] for r in results)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0 + 1e-6
