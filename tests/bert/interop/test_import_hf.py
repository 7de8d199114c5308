"""`norlm bert-import`: local Hugging Face BERT folders into our model, with logit parity and clear refusals."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.bert.interop.helpers import PAIRS, assert_logits_match, batch, our_logits
from tests.conftest import run_norlm


def _random_hf(cls_name: str, vocab_size: int, seed: int = 0):
    """A randomly initialised transformers BERT (tanh GELU), with non-trivial biases and LayerNorms."""
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=48, max_position_embeddings=96,
                                     hidden_act="gelu_new")
    model = getattr(transformers, cls_name)(config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.ndim == 1:
                param.add_(torch.randn_like(param) * 0.1)
    return model.eval()


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory, small_vocab):
    """A BertForPreTraining saved by transformers itself (safetensors), with our small vocab.txt."""
    from norlm.vocab.vocab_file import read_vocab

    folder = tmp_path_factory.mktemp("hf_random")
    model = _random_hf("BertForPreTraining", len(read_vocab(small_vocab / "vocab.txt").lines))
    model.save_pretrained(folder)
    shutil.copyfile(small_vocab / "vocab.txt", folder / "vocab.txt")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))
    return folder, model


def _feats(small_vocab):
    from norlm.vocab.tokenizer import load_tokenizer

    return batch(load_tokenizer(small_vocab), PAIRS)


def test_cli_round_trip_same_logits(tmp_path, hf_folder, small_vocab):
    from norlm.bert.train.checkpoint import load_model_weights
    from norlm.bert.model import BertConfig, BertPretrainingModel

    folder, hf_model = hf_folder
    out = tmp_path / "imported"
    proc = run_norlm("bert-import", str(folder), "--out", str(out), timeout=300)
    assert "46 weights, 0 initialised, 0 unused" in proc.stdout
    assert {"checkpoint", "model.ckpt-0.index", "bert_config.json", "vocab.txt", "tokenizer.json", "import.json",
            "run-bert-import.json"} <= {p.name for p in out.iterdir()}
    config = BertConfig.from_json(out / "bert_config.json")
    assert config.hidden_act == "gelu" and config.vocab_size == hf_model.config.vocab_size
    model = BertPretrainingModel(config, seed=99)
    load_model_weights(model, out)  # a folder means its newest checkpoint
    feats = _feats(small_vocab)
    assert_logits_match(model, hf_model, feats)
    record = json.loads((out / "import.json").read_text())
    assert record["filled_with_initial_values"] == [] and record["tokenizer"]["do_lower_case"] is False
    # the written tokenizer is cased as the folder says
    from norlm.vocab.tokenizer import load_tokenizer

    tok = load_tokenizer(out)
    assert tok.encode("Jeg").ids == load_tokenizer(small_vocab).encode("Jeg").ids


def test_legacy_pytorch_bin_with_old_names(tmp_path, hf_folder, small_vocab):
    """A pre-2019 style pytorch_model.bin: LayerNorm gamma/beta names and an explicit decoder copy."""
    import torch

    from norlm.bert.interop.import_hf import model_from_hf

    folder, hf_model = hf_folder
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    state = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v.clone()
             for k, v in hf_model.state_dict().items()}
    state["cls.predictions.decoder.weight"] = hf_model.bert.embeddings.word_embeddings.weight.detach().clone()
    assert any(k.endswith(".gamma") for k in state)
    torch.save(state, legacy / "pytorch_model.bin")
    for name in ("config.json", "vocab.txt"):
        shutil.copyfile(folder / name, legacy / name)
    model = model_from_hf(legacy)
    feats = _feats(small_vocab)
    assert_logits_match(model, hf_model, feats)


def test_masked_lm_without_pooler_and_nsp(tmp_path, small_vocab):
    """BertForMaskedLM (as NB-BERT is published): MLM logits match, missing pooler/NSP are initialised."""
    import torch

    from norlm.bert.interop.import_hf import assign_weights, read_hf_bert_detailed
    from norlm.bert.model import BertPretrainingModel
    from norlm.vocab.vocab_file import read_vocab

    hf_model = _random_hf("BertForMaskedLM", len(read_vocab(small_vocab / "vocab.txt").lines), seed=1)
    hf_model.save_pretrained(tmp_path)
    shutil.copyfile(small_vocab / "vocab.txt", tmp_path / "vocab.txt")
    result = read_hf_bert_detailed(tmp_path)
    assert result.filled == ["bert/pooler/dense/bias", "bert/pooler/dense/kernel", "cls/seq_relationship/output_bias",
                             "cls/seq_relationship/output_weights"]
    assert any("initialised" in note for note in result.notes)
    assert np.all(result.arrays["cls/seq_relationship/output_bias"] == 0)
    kernel = result.arrays["bert/pooler/dense/kernel"]
    assert abs(kernel.std() - 0.02) < 0.005 and np.abs(kernel).max() <= 0.04 + 1e-7  # truncated normal
    model = BertPretrainingModel(result.config)
    assign_weights(model, result.arrays)
    feats = _feats(small_vocab)
    ours_mlm, _ = our_logits(model, feats)
    with torch.no_grad():
        hf_mlm = hf_model(input_ids=torch.tensor(feats["input_ids"], dtype=torch.long),
                          attention_mask=torch.tensor(feats["input_mask"], dtype=torch.long),
                          token_type_ids=torch.tensor(feats["segment_ids"], dtype=torch.long)).logits.numpy()
    real = feats["input_mask"].astype(bool)
    assert np.abs(ours_mlm[real] - hf_mlm[real]).max() < 1e-4


def test_our_export_round_trips_exactly(exported, tiny_model):
    from norlm.bert.interop.export import model_arrays
    from norlm.bert.interop.import_hf import read_hf_bert

    config, arrays = read_hf_bert(exported / "hf")
    assert config == tiny_model.config
    expected = model_arrays(tiny_model)
    assert set(arrays) == set(expected)
    assert all(np.array_equal(arrays[k], expected[k]) for k in expected)


def test_refuses_a_folder_that_is_not_bert(tmp_path, hf_folder):
    from norlm.bert.interop.hf_files import HFFolderError
    from norlm.bert.interop.import_hf import read_hf_bert

    folder, _ = hf_folder
    shutil.copytree(folder, tmp_path / "roberta")
    config = json.loads((folder / "config.json").read_text())
    (tmp_path / "roberta" / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    with pytest.raises(HFFolderError, match=r"config\.json: model_type is 'roberta', not 'bert'"):
        read_hf_bert(tmp_path / "roberta")
    (tmp_path / "empty").mkdir()
    with pytest.raises(HFFolderError, match="no config.json"):
        read_hf_bert(tmp_path / "empty")
    shutil.copytree(folder, tmp_path / "noweights", ignore=shutil.ignore_patterns("*.safetensors"))
    with pytest.raises(HFFolderError, match="no model.safetensors or pytorch_model.bin"):
        read_hf_bert(tmp_path / "noweights")


def test_refuses_vocab_size_mismatch_via_cli(tmp_path, hf_folder, capsys):
    from norlm.cli import main

    folder, hf_model = hf_folder
    bad = tmp_path / "bad_vocab"
    shutil.copytree(folder, bad)
    lines = (bad / "vocab.txt").read_text(encoding="utf-8").splitlines()
    (bad / "vocab.txt").write_text("\n".join(lines[:-3]) + "\n", encoding="utf-8")
    assert main(["bert-import", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    n = hf_model.config.vocab_size
    assert f"bad_vocab/vocab.txt: {n - 3} vocabulary entries but" in err and f"vocab_size {n}" in err
    assert not (tmp_path / "out").exists()


def test_bfloat16_safetensors_are_widened(tmp_path, hf_folder):
    """numpy has no bfloat16; such files are read through torch and widened to float32."""
    import copy

    import torch

    from norlm.bert.interop.import_hf import read_hf_bert

    folder, hf_model = hf_folder
    half = tmp_path / "bf16"
    copy.deepcopy(hf_model).to(torch.bfloat16).save_pretrained(half)
    shutil.copyfile(folder / "vocab.txt", half / "vocab.txt")
    _, arrays = read_hf_bert(half)
    word = hf_model.bert.embeddings.word_embeddings.weight.detach().to(torch.bfloat16).float().numpy()
    assert arrays["bert/embeddings/word_embeddings"].dtype == np.float32
    np.testing.assert_array_equal(arrays["bert/embeddings/word_embeddings"], word)
    assert not np.array_equal(word, hf_model.bert.embeddings.word_embeddings.weight.detach().numpy())


def test_refuses_weights_that_do_not_fit_the_config(tmp_path, hf_folder):
    from norlm.bert.interop.hf_files import HFFolderError
    from norlm.bert.interop.import_hf import read_hf_bert

    folder, _ = hf_folder
    shutil.copytree(folder, tmp_path / "wrong")
    config = json.loads((folder / "config.json").read_text())
    (tmp_path / "wrong" / "config.json").write_text(json.dumps({**config, "intermediate_size": 64}))
    with pytest.raises(HFFolderError, match=r"model\.safetensors: bert/encoder/layer_0/intermediate/dense/kernel "
                                            r"has shape \(32, 48\), but .*config\.json implies \(32, 64\)"):
        read_hf_bert(tmp_path / "wrong")
