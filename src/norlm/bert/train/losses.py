"""Pretraining losses and metrics (bert-recipe §2.3, §2.10).

mlm_loss = sum(weight * nll) / (sum(weight) + 1e-5) over the masked positions; nsp_loss = mean
cross-entropy over the batch (label 0 = IsNext, 1 = random); total_loss = mlm_loss + nsp_loss.
Accuracies are weighted the same way.
"""
from __future__ import annotations

import tensorflow as tf


def pretraining_losses(outputs: dict, batch: dict) -> dict[str, tf.Tensor]:
    mlm_logits = tf.cast(outputs["mlm_logits"], tf.float32)
    nsp_logits = tf.cast(outputs["nsp_logits"], tf.float32)
    ids = tf.cast(batch["masked_lm_ids"], tf.int32)
    weights = tf.cast(batch["masked_lm_weights"], tf.float32)
    labels = tf.reshape(tf.cast(batch["next_sentence_labels"], tf.int32), [-1])

    nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=mlm_logits)
    denom = tf.reduce_sum(weights) + 1e-5
    mlm_loss = tf.reduce_sum(weights * nll) / denom
    nsp_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=nsp_logits))

    mlm_hit = tf.cast(tf.equal(tf.argmax(mlm_logits, axis=-1, output_type=tf.int32), ids), tf.float32)
    nsp_hit = tf.cast(tf.equal(tf.argmax(nsp_logits, axis=-1, output_type=tf.int32), labels), tf.float32)
    return {
        "mlm_loss": mlm_loss,
        "nsp_loss": nsp_loss,
        "total_loss": mlm_loss + nsp_loss,
        "mlm_accuracy": tf.reduce_sum(weights * mlm_hit) / denom,
        "nsp_accuracy": tf.reduce_mean(nsp_hit),
    }
