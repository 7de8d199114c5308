"""BERT for pretraining (MLM + NSP) as a plain `tf.Module`, with the original TF1 variable names.

The layout follows Google's / NVIDIA's `modeling.py` (bert-recipe §2.2–2.3): post-LN encoder, separate
Q/K/V dense layers, tanh-approximation GELU, LayerNorm eps 1e-12, tied MLM decoder with its own output
bias, NSP weights stored `[2, H]`.  Every variable lives in one dict keyed by its TF1 name, so export,
import and checkpoints never need a name map.  Master weights are always fp32; `compute_dtype` casts
the encoder's matmuls to fp16/bf16 for mixed precision (LayerNorm, softmax and heads stay in fp32).

Dropout is stateless: a training call takes a `[2]` int seed (the trainer derives it from the run
seed, the update step and the micro-batch), so a resumed run draws the very same masks.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass

import tensorflow as tf

LAYER_NORM_EPS = 1e-12


@dataclass(frozen=True)
class BertConfig:
    """The keys of Google's `bert_config.json` / NorBERT's `norbert_config.json`."""

    vocab_size: int = 32922
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02

    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>") -> "BertConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        # HF config.json files carry extra keys (model_type, layer_norm_eps, ...): ignore those
        kwargs = {k: v for k, v in data.items() if k in known}
        missing = sorted(known - set(kwargs) - {"hidden_act", "type_vocab_size", "initializer_range",
                                                "hidden_dropout_prob", "attention_probs_dropout_prob"})
        if missing:
            raise ValueError(f"{source}: BERT config lacks key(s) {', '.join(missing)}")
        cfg = cls(**kwargs)
        if cfg.hidden_size % cfg.num_attention_heads:
            raise ValueError(f"{source}: hidden_size {cfg.hidden_size} is not a multiple of "
                             f"num_attention_heads {cfg.num_attention_heads}")
        return cfg

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "BertConfig":
        with open(path, encoding="utf-8") as fh:
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
        return cls.from_dict(data, str(path))

    def to_json_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> "BertConfig":
        return dataclasses.replace(self, **changes)


def gelu(x: tf.Tensor) -> tf.Tensor:
    """GELU, tanh approximation (what the TF1 BERT code trained with)."""
    c = math.sqrt(2.0 / math.pi)
    return 0.5 * x * (1.0 + tf.tanh(c * (x + 0.044715 * x * x * x)))


def layer_norm(x: tf.Tensor, gamma: tf.Variable, beta: tf.Variable) -> tf.Tensor:
    """LayerNorm over the last axis, computed in fp32 whatever the input dtype."""
    dtype = x.dtype
    x = tf.cast(x, tf.float32)
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    y = (x - mean) * tf.math.rsqrt(var + LAYER_NORM_EPS) * gamma + beta
    return tf.cast(y, dtype)


def variable_shapes(config: BertConfig) -> dict[str, tuple[int, ...]]:
    """TF1 name -> shape of every trainable variable, in the original creation order (§2.8)."""
    H, I, V = config.hidden_size, config.intermediate_size, config.vocab_size
    shapes: dict[str, tuple[int, ...]] = {
        "bert/embeddings/word_embeddings": (V, H),
        "bert/embeddings/token_type_embeddings": (config.type_vocab_size, H),
        "bert/embeddings/position_embeddings": (config.max_position_embeddings, H),
        "bert/embeddings/LayerNorm/gamma": (H,),
        "bert/embeddings/LayerNorm/beta": (H,),
    }
    for i in range(config.num_hidden_layers):
        p = f"bert/encoder/layer_{i}/"
        for part in ("query", "key", "value"):
            shapes[f"{p}attention/self/{part}/kernel"] = (H, H)
            shapes[f"{p}attention/self/{part}/bias"] = (H,)
        shapes[f"{p}attention/output/dense/kernel"] = (H, H)
        shapes[f"{p}attention/output/dense/bias"] = (H,)
        shapes[f"{p}attention/output/LayerNorm/gamma"] = (H,)
        shapes[f"{p}attention/output/LayerNorm/beta"] = (H,)
        shapes[f"{p}intermediate/dense/kernel"] = (H, I)
        shapes[f"{p}intermediate/dense/bias"] = (I,)
        shapes[f"{p}output/dense/kernel"] = (I, H)
        shapes[f"{p}output/dense/bias"] = (H,)
        shapes[f"{p}output/LayerNorm/gamma"] = (H,)
        shapes[f"{p}output/LayerNorm/beta"] = (H,)
    shapes.update({
        "bert/pooler/dense/kernel": (H, H),
        "bert/pooler/dense/bias": (H,),
        "cls/predictions/transform/dense/kernel": (H, H),
        "cls/predictions/transform/dense/bias": (H,),
        "cls/predictions/transform/LayerNorm/gamma": (H,),
        "cls/predictions/transform/LayerNorm/beta": (H,),
        "cls/predictions/output_bias": (V,),
        "cls/seq_relationship/output_weights": (2, H),
        "cls/seq_relationship/output_bias": (2,),
    })
    return shapes


def _initial_value(name: str, shape: tuple[int, ...], stddev: float, seed: int, index: int) -> tf.Tensor:
    """Truncated normal for kernels/tables/output weights, ones for gamma, zeros for bias/beta."""
    leaf = name.rsplit("/", 1)[-1]
    if leaf == "gamma":
        return tf.ones(shape, tf.float32)
    if leaf in ("beta", "bias", "output_bias"):
        return tf.zeros(shape, tf.float32)
    return tf.random.stateless_truncated_normal(shape, seed=[seed, index], stddev=stddev, dtype=tf.float32)


class BertPretrainingModel(tf.Module):
    """BERT encoder + MLM and NSP heads; `vars` maps every TF1 name to its fp32 variable."""

    def __init__(self, config: BertConfig, seed: int = 0, compute_dtype: tf.DType | str = tf.float32,
                 name: str | None = None):
        super().__init__(name=name)
        self.config = config
        self.compute_dtype = tf.as_dtype(compute_dtype)
        self.vars = {
            var_name: tf.Variable(_initial_value(var_name, shape, config.initializer_range, seed, i),
                                  name=var_name, trainable=True)
            for i, (var_name, shape) in enumerate(variable_shapes(config).items())
        }

    # ------------------------------------------------------------------ API
    def variables_by_name(self) -> dict[str, tf.Variable]:
        return dict(self.vars)

    def encode(self, input_ids, input_mask, segment_ids, training: bool = False, seed=None,
               attention_out: list | None = None):
        """(sequence_output [B,T,H], pooled_output [B,H]); fp32 outputs.  A list given as
        `attention_out` receives each layer's attention probabilities [B, heads, T, T]."""
        dropper = _Dropout(training, seed)
        return self._encode(input_ids, input_mask, segment_ids, dropper, attention_out)

    def __call__(self, input_ids, input_mask, segment_ids, masked_lm_positions, training: bool = False,
                 seed=None):
        """{"mlm_logits": [B,P,V], "nsp_logits": [B,2]} in fp32."""
        dropper = _Dropout(training, seed)
        sequence, pooled = self._encode(input_ids, input_mask, segment_ids, dropper)
        return {"mlm_logits": self.mlm_logits(sequence, masked_lm_positions),
                "nsp_logits": self.nsp_logits(pooled)}

    # ------------------------------------------------------------------ pieces
    def _dense(self, x, prefix: str):
        kernel = tf.cast(self.vars[prefix + "/kernel"], x.dtype)
        bias = tf.cast(self.vars[prefix + "/bias"], x.dtype)
        return _matmul_2d(x, kernel) + bias

    def _ln(self, x, prefix: str):
        return layer_norm(x, self.vars[prefix + "/gamma"], self.vars[prefix + "/beta"])

    def _encode(self, input_ids, input_mask, segment_ids, dropper: "_Dropout", attention_out=None):
        cfg = self.config
        v = self.vars
        input_ids = tf.cast(input_ids, tf.int32)
        segment_ids = tf.cast(segment_ids, tf.int32)
        seq_len = tf.shape(input_ids)[1]
        x = tf.gather(v["bert/embeddings/word_embeddings"], input_ids)
        x += tf.gather(v["bert/embeddings/token_type_embeddings"], segment_ids)
        x += v["bert/embeddings/position_embeddings"][tf.newaxis, :seq_len, :]
        x = self._ln(x, "bert/embeddings/LayerNorm")
        x = dropper(x, cfg.hidden_dropout_prob)
        x = tf.cast(x, self.compute_dtype)

        heads = cfg.num_attention_heads
        head_dim = cfg.hidden_size // heads
        mask = tf.cast(input_mask, tf.float32)[:, tf.newaxis, tf.newaxis, :]
        adder = (1.0 - mask) * -10000.0
        batch = tf.shape(x)[0]

        def split_heads(t):
            return tf.transpose(tf.reshape(t, [batch, seq_len, heads, head_dim]), [0, 2, 1, 3])

        for i in range(cfg.num_hidden_layers):
            p = f"bert/encoder/layer_{i}/"
            q = split_heads(self._dense(x, p + "attention/self/query"))
            k = split_heads(self._dense(x, p + "attention/self/key"))
            val = split_heads(self._dense(x, p + "attention/self/value"))
            scores = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(head_dim))
            probs = tf.nn.softmax(tf.cast(scores, tf.float32) + adder, axis=-1)
            if attention_out is not None:
                attention_out.append(probs)
            probs = tf.cast(dropper(probs, cfg.attention_probs_dropout_prob), self.compute_dtype)
            context = tf.reshape(tf.transpose(tf.matmul(probs, val), [0, 2, 1, 3]),
                                 [batch, seq_len, cfg.hidden_size])
            attn = dropper(self._dense(context, p + "attention/output/dense"), cfg.hidden_dropout_prob)
            x = self._ln(attn + x, p + "attention/output/LayerNorm")
            inter = _activation(cfg.hidden_act)(self._dense(x, p + "intermediate/dense"))
            out = dropper(self._dense(inter, p + "output/dense"), cfg.hidden_dropout_prob)
            x = self._ln(out + x, p + "output/LayerNorm")

        sequence = tf.cast(x, tf.float32)
        first = sequence[:, 0, :]
        pooled = tf.tanh(self._dense(first, "bert/pooler/dense"))
        return sequence, pooled

    def mlm_logits(self, sequence, masked_lm_positions):
        """Logits over the vocabulary at the masked positions (decoder tied to word embeddings)."""
        positions = tf.cast(masked_lm_positions, tf.int32)
        h = tf.gather(sequence, positions, batch_dims=1)
        h = tf.cast(h, self.compute_dtype)
        h = _activation(self.config.hidden_act)(self._dense(h, "cls/predictions/transform/dense"))
        h = tf.cast(self._ln(h, "cls/predictions/transform/LayerNorm"), self.compute_dtype)
        table = tf.cast(self.vars["bert/embeddings/word_embeddings"], self.compute_dtype)
        logits = _matmul_2d(h, table, transpose_b=True)
        return tf.cast(logits, tf.float32) + self.vars["cls/predictions/output_bias"]

    def nsp_logits(self, pooled):
        return (tf.matmul(pooled, self.vars["cls/seq_relationship/output_weights"], transpose_b=True)
                + self.vars["cls/seq_relationship/output_bias"])


def _matmul_2d(x, w, transpose_b: bool = False):
    """x [..., K] times the 2-D weight w as one 2-D matmul over all leading rows.

    Why: a 3-D tensor times a 2-D weight runs as a batched matmul, which oneDNN computes at about
    half the speed of the same product as one (rows, K) x (K, N) matmul on this CPU (bench/RESULTS.md).
    """
    if x.shape.rank == 2:
        return tf.matmul(x, w, transpose_b=transpose_b)
    n = w.shape[0] if transpose_b else w.shape[1]
    out = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), w, transpose_b=transpose_b)
    return tf.reshape(out, tf.concat([tf.shape(x)[:-1], [n]], 0))


def _activation(name: str):
    if name in ("gelu", "gelu_new", "gelu_pytorch_tanh"):
        return gelu
    if name == "relu":
        return tf.nn.relu
    if name == "tanh":
        return tf.tanh
    raise ValueError(f"unsupported hidden_act {name!r} (gelu, relu, tanh)")


class _Dropout:
    """Dropout that is a no-op at inference and stateless (seeded) in training when given a seed."""

    def __init__(self, training: bool, seed):
        self.training = training
        self.seed = None if seed is None else tf.cast(seed, tf.int64)
        self.count = 0

    def __call__(self, x, rate: float):
        if not self.training or rate <= 0.0:
            return x
        self.count += 1
        if self.seed is None:
            return tf.nn.dropout(x, rate=rate)
        site_seed = tf.random.experimental.stateless_fold_in(self.seed, self.count)
        return tf.nn.experimental.stateless_dropout(x, rate=rate, seed=site_seed)


def count_parameters(model: BertPretrainingModel) -> int:
    return int(sum(math.prod(v.shape) for v in model.vars.values()))
