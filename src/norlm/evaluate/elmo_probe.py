"""Classifiers on frozen ELMo vectors: POS/NER = average of the layers -> feed-forward tagger;
sentiment = top layer -> BiLSTM with global max pooling.  Vectors are computed once per split and
shared by every seed."""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from norlm.evaluate.layers import BiLSTMClassifier, FeedForwardTagger
from norlm.evaluate.optim import AdamW
from norlm.evaluate.task_scorers import Example, scorer
from norlm.evaluate.tasks import TaskData
from norlm.evaluate.training import FitResult, Learner, fit


def embed_records(embedder, records: list, layers: str, batch_size: int, desc: str) -> list[np.ndarray]:
    """Per-sentence [n_words, D] float32 arrays, computed in length-sorted batches."""
    order = sorted(range(len(records)), key=lambda i: len(records[i].words))
    out: list = [None] * len(records)
    for start in tqdm(range(0, len(order), batch_size), desc=desc, leave=False, mininterval=2.0):
        idx = order[start:start + batch_size]
        vectors = np.asarray(embedder.embed([records[i].words for i in idx], layers=layers), np.float32)
        for row, i in enumerate(idx):
            out[i] = vectors[row, :len(records[i].words)]
    return out


def featurise(embedder, task: TaskData, batch_size: int) -> tuple[dict[str, list], float]:
    """Examples with frozen ELMo features for every split, and the seconds it took."""
    t0 = time.perf_counter()
    layers = "top" if task.kind == "sentence" else "average"
    label_ids = {label: i for i, label in enumerate(task.labels)}
    splits = {}
    for name in ("train", "dev", "test"):
        records = getattr(task, name)
        feats = embed_records(embedder, records, layers, batch_size, f"elmo {task.task} {name}")
        examples = []
        for rec, x in zip(records, feats):
            if task.kind == "token":
                gold = rec.upos if task.task == "pos" else rec.ner
                labels = np.asarray([label_ids.get(t, 0) for t in gold], np.int32)
                examples.append(Example(list(gold), {"x": x, "labels": labels}))
            else:
                examples.append(Example(rec.label, {"x": x, "labels": np.int32(label_ids[rec.label])}))
        splits[name] = examples
    return splits, round(time.perf_counter() - t0, 3)


def _collate_tokens(examples: list) -> dict:
    return {"x": np.concatenate([ex.inputs["x"] for ex in examples]),
            "labels": np.concatenate([ex.inputs["labels"] for ex in examples])}


def _collate_sentences(examples: list) -> dict:
    n, width, dim = len(examples), max(len(ex.inputs["x"]) for ex in examples), examples[0].inputs["x"].shape[1]
    x = np.zeros((n, width, dim), np.float32)
    mask = np.zeros((n, width), np.int32)
    for i, ex in enumerate(examples):
        x[i, :len(ex.inputs["x"])] = ex.inputs["x"]
        mask[i, :len(ex.inputs["x"])] = 1
    return {"x": x, "mask": mask, "labels": np.asarray([ex.inputs["labels"] for ex in examples], np.int32)}


def run_elmo(splits: dict[str, list], task: TaskData, protocol, seed: int, desc: str) -> tuple[FitResult, dict]:
    """Train the task's classifier on frozen features with one seed."""
    tf.random.set_seed(seed)
    gen = tf.random.Generator.from_seed(seed)
    dim = splits["train"][0].inputs["x"].shape[1]
    token_level = task.kind == "token"
    if token_level:
        model = FeedForwardTagger(dim, protocol.hidden, len(task.labels), protocol.dropout, gen)
        spec = {"x": tf.TensorSpec([None, dim], tf.float32), "labels": tf.TensorSpec([None], tf.int32)}
        collate = _collate_tokens

        def logits_of(batch, training):
            return model(batch["x"], training=training)
    else:
        model = BiLSTMClassifier(dim, protocol.lstm_hidden, len(task.labels), protocol.dropout, gen)
        spec = {"x": tf.TensorSpec([None, None, dim], tf.float32), "mask": tf.TensorSpec([None, None], tf.int32),
                "labels": tf.TensorSpec([None], tf.int32)}
        collate = _collate_sentences

        def logits_of(batch, training):
            return model(batch["x"], batch["mask"], training=training)

    weights = list(model.trainable_variables)
    epochs = protocol.ner_epochs if task.task == "ner" and protocol.ner_epochs > 0 else protocol.epochs
    steps = epochs * -(-len(splits["train"]) // protocol.batch_size)
    opt = AdamW(weights, protocol.learning_rate, steps, weight_decay=0.0, decay_to_zero=False, epsilon=1e-7)

    @tf.function(input_signature=[spec])
    def train_step(batch):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                batch["labels"], logits_of(batch, True)))
        opt.apply(tape.gradient(loss, weights))
        return loss

    @tf.function(input_signature=[spec])
    def predict_ids(batch):
        return tf.argmax(logits_of(batch, False), axis=-1, output_type=tf.int32)

    def predict(examples: list) -> list:
        out = []
        for start in range(0, len(examples), 4 * protocol.batch_size):
            chunk = examples[start:start + 4 * protocol.batch_size]
            pred = predict_ids(collate(chunk)).numpy()
            if token_level:
                offset = 0
                for ex in chunk:
                    n = len(ex.inputs["labels"])
                    out.append([task.labels[j] for j in pred[offset:offset + n]])
                    offset += n
            else:
                out.extend(task.labels[j] for j in pred)
        return out

    learner = Learner(weights, train_step, predict, collate,
                      length=None if token_level else (lambda ex: len(ex.inputs["x"])))
    result = fit(learner, splits["train"], splits["dev"], splits["test"], epochs, protocol.batch_size,
                 scorer(task.task), seed, desc=desc)
    facts = {"batch_size": protocol.batch_size, "epochs": epochs, "learning_rate": protocol.learning_rate,
             "optimizer": "Adam", "classifier": "ffn" if token_level else "bilstm-maxpool", "feature_dim": dim,
             "elmo_layers": "average" if token_level else "top"}
    return result, facts
