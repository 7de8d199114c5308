"""Train the graph parser with one seed: Adam (betas (0, 0.95), L2 in the gradient, no clipping),
every epoch scored on dev by labelled-arc F1, the strictly best epoch's weights kept, then dev and
test predicted with them (the shared epoch loop of norlm.evaluate.training)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from norlm.evaluate.graph.features import GraphExample, Vocabs, collate, labelled_f1
from norlm.evaluate.graph.model import GraphParser
from norlm.evaluate.optim import AdamW
from norlm.evaluate.training import FitResult, Learner, fit


@dataclass
class ParserRun:
    fit: FitResult
    dev_pred: list[np.ndarray]  # [n+1, n+1] label ids per sentence
    test_pred: list[np.ndarray]
    parameters: int


def batch_spec(lm_dim: int) -> dict:
    spec = {k: tf.TensorSpec([None, None], tf.int32) for k in ("words", "lemmas", "pos")}
    spec["chars"] = tf.TensorSpec([None, None, None], tf.int32)
    spec["mask"] = tf.TensorSpec([None, None], tf.float32)
    spec["labels"] = tf.TensorSpec([None, None, None], tf.int32)
    if lm_dim:
        spec["lm"] = tf.TensorSpec([None, None, lm_dim], tf.float32)
    return spec


def lm_dim_of(examples: list[GraphExample]) -> int:
    return 0 if examples[0].lm is None else int(examples[0].lm.shape[1])


def make_model(vocabs: Vocabs, lm_dim: int, protocol, seed: int, fused: bool = True):
    """The parser, its Adam and compiled train / predict functions."""
    tf.random.set_seed(seed)
    model = GraphParser(vocabs.sizes(), lm_dim, protocol, seed, fused)
    weights = list(model.trainable_variables)
    opt = AdamW(weights, protocol.learning_rate, 1, weight_decay=0.0, decay_to_zero=False, beta1=protocol.beta1,
                beta2=protocol.beta2, epsilon=1e-8)
    wd = protocol.weight_decay
    spec = batch_spec(lm_dim)

    # autograph off: no tensor-dependent Python control flow here, and converting the model costs seconds
    @tf.function(input_signature=[spec], autograph=False)
    def train_step(batch):
        with tf.GradientTape() as tape:
            loss = model.loss(batch, True)
        grads = [None if g is None else tf.convert_to_tensor(g) for g in tape.gradient(loss, weights)]
        if wd > 0.0:  # None: a variable this batch did not use (e.g. the drop vector without dropout)
            grads = [None if g is None else g + wd * v for g, v in zip(grads, weights)]
        opt.apply(grads)
        return loss

    @tf.function(input_signature=[spec], autograph=False)
    def predict_ids(batch):
        return model.predict(batch)

    return model, train_step, predict_ids


def predictor(predict_ids, lm_dim: int, batch_size: int):
    """examples -> predicted label matrices, batched by length (order of the input kept)."""

    def predict(examples: list[GraphExample]) -> list[np.ndarray]:
        order = sorted(range(len(examples)), key=lambda i: len(examples[i]))
        out: list = [None] * len(examples)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            pred = predict_ids(collate([examples[i] for i in idx], lm_dim)).numpy()
            for row, i in enumerate(idx):
                n = len(examples[i]) + 1
                out[i] = pred[row, :n, :n]
        return out

    return predict


def train_parser(splits: dict[str, list[GraphExample]], vocabs: Vocabs, protocol, seed: int, desc: str = "",
                 fused: bool = True) -> ParserRun:
    """Fit on train, select on dev, predict dev and test with the selected weights."""
    lm_dim = lm_dim_of(splits["train"])
    model, train_step, predict_ids = make_model(vocabs, lm_dim, protocol, seed, fused)
    predict = predictor(predict_ids, lm_dim, 2 * protocol.batch_size)
    last: dict[str, list] = {}

    def score(examples, preds):
        last["pred"] = preds
        return labelled_f1([ex.inputs["labels"] for ex in examples], preds)

    learner = Learner(list(model.trainable_variables), train_step, predict, lambda exs: collate(exs, lm_dim),
                      length=(lambda ex: len(ex)) if protocol.length_buckets else None)
    result = fit(learner, splits["train"], splits["dev"], splits["test"], protocol.epochs, protocol.batch_size,
                 score, seed, desc=desc)
    test_pred = last["pred"]
    dev_pred = predict(splits["dev"])
    parameters = int(sum(np.prod(v.shape) for v in model.trainable_variables))
    return ParserRun(result, dev_pred, test_pred, parameters)
