"""Fine-tune every BERT weight on a task: token classification on the first sub-word of each word,
sentence classification on [CLS] (the pooled output), AdamW, best dev epoch -> test."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from norlm.evaluate.bert_models import BertBundle
from norlm.evaluate.layers import Dense
from norlm.evaluate.optim import AdamW
from norlm.evaluate.task_scorers import Example, scorer
from norlm.evaluate.tasks import TaskData
from norlm.evaluate.training import FitResult, Learner, fit


def encode_examples(bundle: BertBundle, records: list, task: TaskData, max_length: int) -> tuple[list, int]:
    """Records -> Examples with sub-word ids and first-sub-word positions; count of words cut off."""
    tok = bundle.tokenizer
    sep = tok.token_to_id("[SEP]")
    label_ids = {label: i for i, label in enumerate(task.labels)}
    max_length = min(max_length, bundle.config.max_position_embeddings)
    encodings = tok.encode_batch([r.words for r in records], is_pretokenized=True)
    examples, cut = [], 0
    for rec, enc in zip(records, encodings):
        ids = list(enc.ids)
        word_ids = list(enc.word_ids)
        if len(ids) > max_length:
            ids, word_ids = ids[:max_length - 1] + [sep], word_ids[:max_length - 1] + [None]
        inputs = {"input_ids": np.asarray(ids, np.int32)}
        if task.kind == "token":
            first = np.full(len(rec.words), -1, np.int32)
            for pos, w in enumerate(word_ids):
                if w is not None and first[w] < 0:
                    first[w] = pos
            cut += int((first < 0).sum())
            gold = rec.upos if task.task == "pos" else rec.ner
            inputs["first"] = first
            inputs["labels"] = np.asarray([label_ids.get(t, 0) for t in gold], np.int32)
            examples.append(Example(list(gold), inputs))
        else:
            inputs["labels"] = np.int32(label_ids[rec.label])
            examples.append(Example(rec.label, inputs))
    return examples, cut


def _round_up(n: int, multiple: int = 8) -> int:
    return max(multiple, -(-n // multiple) * multiple)


def collate(examples: list, token_level: bool) -> dict:
    """Pad a batch (lengths rounded up to a multiple of 8 to limit retracing)."""
    n = len(examples)
    width = _round_up(max(len(ex.inputs["input_ids"]) for ex in examples))
    ids = np.zeros((n, width), np.int32)
    mask = np.zeros((n, width), np.int32)
    for i, ex in enumerate(examples):
        seq = ex.inputs["input_ids"]
        ids[i, :len(seq)] = seq
        mask[i, :len(seq)] = 1
    batch = {"input_ids": ids, "input_mask": mask}
    if token_level:
        words = _round_up(max(len(ex.inputs["first"]) for ex in examples))
        first = np.zeros((n, words), np.int32)
        word_mask = np.zeros((n, words), np.float32)
        labels = np.zeros((n, words), np.int32)
        for i, ex in enumerate(examples):
            f = ex.inputs["first"]
            first[i, :len(f)] = np.maximum(f, 0)
            word_mask[i, :len(f)] = f >= 0
            labels[i, :len(f)] = ex.inputs["labels"]
        batch.update(first=first, word_mask=word_mask, labels=labels)
    else:
        batch["labels"] = np.asarray([ex.inputs["labels"] for ex in examples], np.int32)
    return batch


class BertClassifier(tf.Module):
    """Encoder + dropout + linear layer, on first sub-words (tokens) or the pooled [CLS] (sentences)."""

    def __init__(self, bundle: BertBundle, n_labels: int, token_level: bool, dropout: float, seed: int):
        super().__init__(name="classifier")
        self.encoder = bundle.model
        self.token_level = token_level
        self.rate = dropout
        gen = tf.random.Generator.from_seed(seed)
        hidden = bundle.config.hidden_size
        self.head = Dense(hidden, n_labels, gen, name="head")
        self.head.kernel.assign(gen.truncated_normal((hidden, n_labels), stddev=0.02))
        named = {k: v for k, v in self.encoder.variables_by_name().items() if k.startswith("bert/")}
        named["head/kernel"], named["head/bias"] = self.head.kernel, self.head.bias
        self.names = list(named)
        self.weights = list(named.values())

    def logits(self, batch: dict, training: bool, seed=None) -> tf.Tensor:
        segments = tf.zeros_like(batch["input_ids"])
        seq, pooled = self.encoder.encode(batch["input_ids"], batch["input_mask"], segments,
                                          training=training, seed=seed)
        h = tf.gather(seq, batch["first"], batch_dims=1) if self.token_level else pooled
        if training and self.rate > 0:
            h = tf.nn.experimental.stateless_dropout(
                h, rate=self.rate, seed=tf.random.experimental.stateless_fold_in(seed, 7919))
        return self.head(h)


def run_bert(bundle: BertBundle, task: TaskData, protocol, seed: int, learning_rate: float,
             desc: str) -> tuple[FitResult, dict]:
    """Fine-tune `bundle` on `task` with one seed; returns the fit result and run facts."""
    tf.random.set_seed(seed)
    token_level = task.kind == "token"
    batch_size = protocol.batch_size_pos if task.task == "pos" else protocol.batch_size
    splits = {}
    cut = {}
    for name in ("train", "dev", "test"):
        splits[name], cut[name] = encode_examples(bundle, getattr(task, name), task, protocol.max_length)
    clf = BertClassifier(bundle, len(task.labels), token_level, protocol.dropout, seed)
    steps = protocol.epochs * -(-len(splits["train"]) // batch_size)
    opt = AdamW(clf.weights, learning_rate, steps, weight_decay=protocol.weight_decay,
                warmup_steps=int(protocol.warmup_fraction * steps), names=clf.names)
    n_labels = len(task.labels)
    spec = {"input_ids": tf.TensorSpec([None, None], tf.int32), "input_mask": tf.TensorSpec([None, None], tf.int32)}
    if token_level:
        spec.update(first=tf.TensorSpec([None, None], tf.int32), word_mask=tf.TensorSpec([None, None], tf.float32),
                    labels=tf.TensorSpec([None, None], tf.int32))
    else:
        spec["labels"] = tf.TensorSpec([None], tf.int32)

    @tf.function(input_signature=[spec, tf.TensorSpec([2], tf.int64)])
    def train_step(batch, step_seed):
        with tf.GradientTape() as tape:
            logits = clf.logits(batch, training=True, seed=step_seed)
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(batch["labels"], logits)
            if token_level:
                loss = tf.reduce_sum(losses * batch["word_mask"]) / tf.maximum(tf.reduce_sum(batch["word_mask"]), 1.0)
            else:
                loss = tf.reduce_mean(losses)
        opt.apply(tape.gradient(loss, clf.weights))
        return loss

    @tf.function(input_signature=[spec])
    def predict_ids(batch):
        return tf.argmax(clf.logits(batch, training=False), axis=-1, output_type=tf.int32)

    counter = [0]

    def step(batch):
        counter[0] += 1
        return train_step(batch, tf.constant([seed, counter[0]], tf.int64))

    # words the encoder never sees (cut by max_length) get the most frequent training label
    fallback = int(np.bincount(np.concatenate([ex.inputs["labels"].ravel() for ex in splits["train"]]),
                               minlength=n_labels).argmax())

    def predict(examples: list) -> list:
        order = sorted(range(len(examples)), key=lambda i: len(examples[i].inputs["input_ids"]))
        out: list = [None] * len(examples)
        for start in range(0, len(order), 2 * batch_size):
            idx = order[start:start + 2 * batch_size]
            chunk = [examples[i] for i in idx]
            pred = predict_ids(collate(chunk, token_level)).numpy()
            for row, i in enumerate(idx):
                if token_level:
                    first = examples[i].inputs["first"]
                    ids = np.where(first >= 0, pred[row, :len(first)], fallback)
                    out[i] = [task.labels[j] for j in ids]
                else:
                    out[i] = task.labels[pred[row]]
        return out

    learner = Learner(clf.weights, step, predict, lambda ex: collate(ex, token_level),
                      length=lambda ex: len(ex.inputs["input_ids"]))
    result = fit(learner, splits["train"], splits["dev"], splits["test"], protocol.epochs, batch_size,
                 scorer(task.task), seed, desc=desc)
    facts = {"batch_size": batch_size, "epochs": protocol.epochs, "learning_rate": learning_rate,
             "max_length": min(protocol.max_length, bundle.config.max_position_embeddings),
             "words_cut_by_max_length": cut, "optimizer_steps": steps}
    return result, facts
