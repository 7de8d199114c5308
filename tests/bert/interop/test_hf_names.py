"""The TF1 <-> Hugging Face name table against both real models' parameter sets."""
from __future__ import annotations

import numpy as np
import pytest

from norlm.bert.interop.hf_names import hf_to_tf1, name_table, normalise_hf_key, tf1_names, tf1_to_hf
from norlm.bert.model import BertConfig, variable_shapes


@pytest.mark.parametrize("layers,count", [(2, 46), (12, 206)])
def test_tf1_names_are_the_model_variables(layers, count):
    names = tf1_names(layers)
    assert len(names) == len(set(names)) == count
    assert set(names) == set(variable_shapes(BertConfig(num_hidden_layers=layers)))


def test_hf_keys_are_bert_for_pretraining_parameters():
    import transformers

    hf = transformers.BertForPreTraining(transformers.BertConfig(
        vocab_size=30, hidden_size=8, num_hidden_layers=3, num_attention_heads=2, intermediate_size=12,
        max_position_embeddings=16))
    expected = {k for k in hf.state_dict() if not k.startswith("cls.predictions.decoder.")}
    assert {hf_key for _, hf_key, _ in name_table(3)} == expected
    # shapes: TF1 shape, transposed where the table says so, equals the torch shape
    shapes = variable_shapes(BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=3, num_attention_heads=2,
                                        intermediate_size=12, max_position_embeddings=16))
    torch_shapes = {k: tuple(v.shape) for k, v in hf.state_dict().items()}
    for tf_name, hf_key, transpose in name_table(3):
        tf_shape = shapes[tf_name]
        assert (tf_shape[::-1] if transpose else tf_shape) == torch_shapes[hf_key], tf_name


def test_kernels_transposed_nsp_weights_not():
    shapes = variable_shapes(BertConfig(vocab_size=11, hidden_size=4, num_hidden_layers=1, num_attention_heads=2,
                                        intermediate_size=6, max_position_embeddings=8))
    rng = np.random.default_rng(0)
    arrays = {k: rng.normal(size=s).astype(np.float32) for k, s in shapes.items()}
    state = tf1_to_hf(arrays, 1)
    np.testing.assert_array_equal(state["bert.encoder.layer.0.intermediate.dense.weight"],
                                  arrays["bert/encoder/layer_0/intermediate/dense/kernel"].T)
    assert state["bert.encoder.layer.0.intermediate.dense.weight"].shape == (6, 4)
    np.testing.assert_array_equal(state["cls.seq_relationship.weight"], arrays["cls/seq_relationship/output_weights"])
    np.testing.assert_array_equal(state["cls.predictions.bias"], arrays["cls/predictions/output_bias"])
    assert all(v.flags["C_CONTIGUOUS"] and v.dtype == np.float32 for v in state.values())
    back, missing, unused = hf_to_tf1(state, 1)
    assert missing == [] and unused == []
    assert all(np.array_equal(back[k], arrays[k]) for k in arrays)


def test_legacy_and_headless_keys():
    assert normalise_hf_key("bert.embeddings.LayerNorm.gamma") == "bert.embeddings.LayerNorm.weight"
    assert normalise_hf_key("cls.predictions.transform.LayerNorm.beta") == "cls.predictions.transform.LayerNorm.bias"
    assert normalise_hf_key("encoder.layer.0.output.dense.weight") == "bert.encoder.layer.0.output.dense.weight"
    state = {"embeddings.word_embeddings.weight": np.ones((5, 2)), "classifier.weight": np.ones((3, 2)),
             "cls.predictions.decoder.weight": np.ones((5, 2)), "bert.embeddings.position_ids": np.arange(4)}
    arrays, missing, unused = hf_to_tf1(state, 1)
    assert list(arrays) == ["bert/embeddings/word_embeddings"]
    assert unused == ["classifier.weight"]  # tied decoder and buffers are not reported as unused
    assert len(missing) == 30 - 1  # 16 per layer + 14 others, minus the one present


def test_tf1_to_hf_refuses_wrong_names():
    arrays = {k: np.zeros(s, np.float32) for k, s in variable_shapes(BertConfig(
        vocab_size=7, hidden_size=4, num_hidden_layers=1, num_attention_heads=2, intermediate_size=4,
        max_position_embeddings=4)).items()}
    with pytest.raises(KeyError, match="unexpected"):
        tf1_to_hf({**arrays, "bert/encoder/layer_0/attention/self/query/kernel/adam_m": np.zeros((4, 4))}, 1)
    del arrays["cls/predictions/output_bias"]
    with pytest.raises(KeyError, match="missing"):
        tf1_to_hf(arrays, 1)
