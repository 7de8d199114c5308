"""BERT model: TF1 variable names and shapes, parameter count, and numerical parity with HF PyTorch BERT."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from norlm.bert.model import BertConfig, BertPretrainingModel, variable_shapes

TINY = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                  max_position_embeddings=40, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def expected_two_layer_names() -> dict[str, tuple]:
    H, I, V = 32, 64, 99
    names = {
        "bert/embeddings/word_embeddings": (V, H), "bert/embeddings/token_type_embeddings": (2, H),
        "bert/embeddings/position_embeddings": (40, H), "bert/embeddings/LayerNorm/gamma": (H,),
        "bert/embeddings/LayerNorm/beta": (H,), "bert/pooler/dense/kernel": (H, H), "bert/pooler/dense/bias": (H,),
        "cls/predictions/transform/dense/kernel": (H, H), "cls/predictions/transform/dense/bias": (H,),
        "cls/predictions/transform/LayerNorm/gamma": (H,), "cls/predictions/transform/LayerNorm/beta": (H,),
        "cls/predictions/output_bias": (V,), "cls/seq_relationship/output_weights": (2, H),
        "cls/seq_relationship/output_bias": (2,),
    }
    for i in range(2):
        p = f"bert/encoder/layer_{i}/"
        for part in ("query", "key", "value"):
            names[f"{p}attention/self/{part}/kernel"] = (H, H)
            names[f"{p}attention/self/{part}/bias"] = (H,)
        names.update({
            f"{p}attention/output/dense/kernel": (H, H), f"{p}attention/output/dense/bias": (H,),
            f"{p}attention/output/LayerNorm/gamma": (H,), f"{p}attention/output/LayerNorm/beta": (H,),
            f"{p}intermediate/dense/kernel": (H, I), f"{p}intermediate/dense/bias": (I,),
            f"{p}output/dense/kernel": (I, H), f"{p}output/dense/bias": (H,),
            f"{p}output/LayerNorm/gamma": (H,), f"{p}output/LayerNorm/beta": (H,),
        })
    return names


def test_two_layer_variable_names_and_shapes():
    model = BertPretrainingModel(TINY, seed=3)
    got = {name: tuple(v.shape) for name, v in model.variables_by_name().items()}
    assert got == expected_two_layer_names()
    assert len(got) == 46
    # initialisation: truncated normal sigma 0.02 for kernels, ones/zeros for LayerNorm and biases
    v = model.variables_by_name()
    kernel = v["bert/encoder/layer_0/intermediate/dense/kernel"].numpy()
    assert abs(kernel.std() - 0.02 * 0.88) < 0.004 and np.abs(kernel).max() <= 0.04 + 1e-7
    assert np.all(v["bert/embeddings/LayerNorm/gamma"].numpy() == 1.0)
    assert np.all(v["cls/predictions/output_bias"].numpy() == 0.0)
    # the same seed gives the same weights, another seed different ones
    again = BertPretrainingModel(TINY, seed=3).variables_by_name()
    other = BertPretrainingModel(TINY, seed=4).variables_by_name()
    assert np.array_equal(again["bert/pooler/dense/kernel"].numpy(), v["bert/pooler/dense/kernel"].numpy())
    assert not np.array_equal(other["bert/pooler/dense/kernel"].numpy(), v["bert/pooler/dense/kernel"].numpy())


def test_norbert_config_parameter_count(repo):
    cfg = BertConfig.from_json(repo / "configs/bert/norbert1.json")
    shapes = variable_shapes(cfg)
    assert len(shapes) == 206
    total = sum(math.prod(s) for s in shapes.values())
    assert total == 111_952_028  # bert-recipe §2.8, including the pretraining heads
    encoder = sum(math.prod(s) for n, s in shapes.items() if n.startswith("bert/"))
    assert encoder == 111_325_440
    assert cfg.to_json_dict() == json.loads((repo / "configs/bert/norbert1.json").read_text())


def test_config_rejects_bad_head_count(tmp_path):
    bad = dict(TINY.to_json_dict(), num_attention_heads=5)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="not a multiple of num_attention_heads 5"):
        BertConfig.from_json(path)


def _hf_name(tf1: str) -> tuple[str, bool]:
    """TF1 name -> (HF BertForPreTraining parameter, transpose?) for the parity test."""
    if tf1 == "cls/predictions/output_bias":
        return "cls.predictions.bias", False
    if tf1 == "cls/seq_relationship/output_weights":
        return "cls.seq_relationship.weight", False
    if tf1 == "cls/seq_relationship/output_bias":
        return "cls.seq_relationship.bias", False
    parts = tf1.split("/")
    out = []
    for part in parts:
        if part.startswith("layer_"):
            out += ["layer", part[len("layer_"):]]
        else:
            out.append(part)
    leaf = out[-1]
    transpose = leaf == "kernel"
    if leaf.endswith("_embeddings"):
        out.append("weight")
    else:
        out[-1] = {"kernel": "weight", "gamma": "weight", "beta": "bias", "bias": "bias"}[leaf]
    return ".".join(out), transpose


def test_outputs_match_hf_pytorch_bert():
    import torch
    from transformers import BertConfig as HFConfig, BertForPreTraining

    model = BertPretrainingModel(TINY, seed=7)
    hf = BertForPreTraining(HFConfig(**dict(TINY.to_json_dict(), hidden_act="gelu_new"), layer_norm_eps=1e-12))
    hf.eval()
    state = hf.state_dict()
    with torch.no_grad():
        for name, var in model.variables_by_name().items():
            hf_name, transpose = _hf_name(name)
            value = var.numpy().T if transpose else var.numpy()
            assert tuple(state[hf_name].shape) == value.shape, hf_name
            state[hf_name].copy_(torch.from_numpy(np.ascontiguousarray(value)))
    rng = np.random.default_rng(0)
    B, T, P = 3, 16, 4
    ids = rng.integers(5, 99, size=(B, T))
    mask = np.ones((B, T), np.int64)
    mask[1, 10:] = 0
    segments = np.zeros((B, T), np.int64)
    segments[:, 8:] = 1
    positions = np.sort(rng.choice(np.arange(1, 10), size=(B, P)), axis=1)
    ours = model(ids, mask, segments, positions)
    seq, pooled = model.encode(ids, mask, segments)
    with torch.no_grad():
        ref = hf(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                 token_type_ids=torch.tensor(segments), output_hidden_states=True)
    ref_mlm = np.take_along_axis(ref.prediction_logits.numpy(), positions[:, :, None], axis=1)
    assert ours["mlm_logits"].shape == (B, P, 99) and ours["nsp_logits"].shape == (B, 2)
    np.testing.assert_allclose(ours["mlm_logits"].numpy(), ref_mlm, atol=2e-4)
    np.testing.assert_allclose(ours["nsp_logits"].numpy(), ref.seq_relationship_logits.numpy(), atol=2e-4)
    valid = mask.astype(bool)
    np.testing.assert_allclose(seq.numpy()[valid], ref.hidden_states[-1].numpy()[valid], atol=2e-4)


def test_stateless_dropout_repeats_with_the_seed():
    cfg = TINY.replace(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    model = BertPretrainingModel(cfg, seed=1)
    ids = np.full((2, 8), 7)
    ones = np.ones((2, 8))
    pos = np.array([[1, 2], [3, 4]])
    a = model(ids, ones, 0 * ones, pos, training=True, seed=[5, 9])["mlm_logits"].numpy()
    b = model(ids, ones, 0 * ones, pos, training=True, seed=[5, 9])["mlm_logits"].numpy()
    c = model(ids, ones, 0 * ones, pos, training=True, seed=[5, 10])["mlm_logits"].numpy()
    d = model(ids, ones, 0 * ones, pos, training=False)["mlm_logits"].numpy()
    assert np.array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, d)


def test_dense_layers_run_as_2d_matmuls_with_the_batched_result():
    """_matmul_2d flattens the leading axes (faster than a batched matmul on CPU) and gives its numbers."""
    from norlm.bert.model import _matmul_2d

    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 5, 8)), tf.float32)
    w = tf.constant(rng.normal(size=(8, 6)), tf.float32)
    np.testing.assert_allclose(_matmul_2d(x, w).numpy(), tf.matmul(x, w).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_matmul_2d(x, tf.transpose(w), transpose_b=True).numpy(),
                               np.einsum("btk,kn->btn", x.numpy(), w.numpy()), rtol=1e-5, atol=1e-5)
    traced = tf.function(lambda a: _matmul_2d(a, w), input_signature=[tf.TensorSpec([None, None, 8])])
    assert traced(x).shape == (3, 5, 6)
    graph = traced.get_concrete_function().graph
    assert not [op for op in graph.get_operations() if op.type.startswith("BatchMatMul")]
