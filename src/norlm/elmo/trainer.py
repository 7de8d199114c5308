"""The compiled ELMo training step: model, Adagrad, the LSTM states carried from batch to batch.

bilm-tf's update (elmo-format spec sections 2-4): both directions share one sampled softmax and its
negatives, loss 0.5·(fw+bw) scaled by unroll_steps for the gradient, global-norm clip, Adagrad.  Under
several workers the dense gradients and the loss are averaged (norlm.engines).  Also the held-out
perplexity (full softmax, zero state) that elmo-train reports at its start and end.
"""
from __future__ import annotations

import math

import numpy as np

from norlm import engines


class Trainer:
    """Model, optimiser, carried states and the compiled training step."""

    def __init__(self, options: dict, n_vocab: int, ec, seed: int):
        import tensorflow as tf

        from norlm.elmo.adagrad import Adagrad
        from norlm.elmo.model import ElmoModel

        self.tf = tf
        self.ec = ec
        self.seed = seed
        self.n_vocab = n_vocab
        self.model = ElmoModel(options, n_vocab=n_vocab, seed=seed)
        self.names = sorted(self.model.vars)
        self.train_vars = [self.model.vars[n] for n in self.names]
        self.optimizer = Adagrad(self.names, self.train_vars, ec.learning_rate, ec.initial_accumulator)
        self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        b, m = ec.batch_size, self.model
        self.states = {f"{d}/{layer}/{part}": tf.Variable(tf.zeros([b, m.dim if part == "c" else m.state_dim]),
                                                          trainable=False)
                       for d in range(2) for layer in range(m.n_layers) for part in ("c", "m")}
        shared = {**self.model.vars, **self.optimizer.slots, "global_step": self.global_step}
        from norlm.elmo.checkpoint import make_checkpoint

        self.checkpoint = make_checkpoint(shared)
        self.step_fn = tf.function(self._train_step, reduce_retracing=True)
        signature = [tf.TensorSpec([None, None, ec.max_characters_per_token], tf.int32),
                     tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]
        self.eval_fns = [tf.function(lambda c, t, m, d=d: self._eval_xent(c, t, m, d), input_signature=signature)
                         for d in range(2)]

    def _direction_states(self, d: int):
        return [(self.states[f"{d}/{layer}/c"].value(), self.states[f"{d}/{layer}/m"].value())
                for layer in range(self.model.n_layers)]

    def _train_step(self, chars, targets, sampled, tries, seed):
        tf, ec, model = self.tf, self.ec, self.model
        from norlm.elmo.sampler import expected_count
        from norlm.elmo.softmax import sampled_softmax_xent

        b = ec.batch_size
        with tf.GradientTape() as tape:
            # forward rows then backward rows: one CNN call, once per distinct word of the batch
            emb = model.token_embedding(chars, unique=True)
            tops, new_states = [], []
            for d in range(2):
                dseed = tf.random.experimental.stateless_fold_in(seed, d)
                outs, states = model.stack(d, emb[d * b:(d + 1) * b], self._direction_states(d), dropout_seed=dseed)
                top = outs[-1]
                if model.dropout > 0:
                    top = tf.nn.experimental.stateless_dropout(
                        top, model.dropout, seed=tf.random.experimental.stateless_fold_in(dseed, 99))
                tops.append(tf.reshape(top, [-1, model.proj_dim]))
                new_states.append(states)
            # both directions share the negatives: one sampled softmax over all 2·B·T positions
            labels = tf.reshape(tf.cast(targets, tf.int64), [-1])
            n_sampled = sampled.shape[0]
            loss = sampled_softmax_xent(
                model.vars["lm/softmax/W"], model.vars["lm/softmax/b"], labels, tf.concat(tops, 0), sampled,
                expected_count(labels[:, None], n_sampled, tries, self.n_vocab),
                expected_count(sampled, n_sampled, tries, self.n_vocab))
            per_direction = tf.reduce_mean(tf.reshape(loss, [2, -1]), axis=1)
            total = 0.5 * (per_direction[0] + per_direction[1])
            scaled = total * float(ec.unroll_steps)
        grads = tape.gradient(scaled, self.train_vars)
        grads = [tf.convert_to_tensor(g) for g in grads]  # IndexedSlices -> dense (duplicates summed)
        if engines.size() > 1:
            grads = [engines.allreduce(g, "mean", name=f"grad_{i}") for i, g in enumerate(grads)]
            total = engines.allreduce(total, "mean", name="loss")
        grads, norm = tf.clip_by_global_norm(grads, ec.clip_norm)
        self.optimizer.apply(grads, self.train_vars)
        for d in range(2):
            for layer, (c, m) in enumerate(new_states[d]):
                self.states[f"{d}/{layer}/c"].assign(c)
                self.states[f"{d}/{layer}/m"].assign(m)
        self.global_step.assign_add(1)
        return total, norm

    def _eval_xent(self, chars, targets, mask, direction):
        """Summed full-softmax cross-entropy over a zero-state padded batch of one direction."""
        tf, model = self.tf, self.model
        emb = model.token_embedding(chars)
        outs, _ = model.stack(direction, emb, model.zero_states(tf.shape(chars)[0]), mask=tf.ones_like(mask) > 0)
        xent = model.full_softmax_xent(tf.reshape(outs[-1], [-1, model.proj_dim]), tf.reshape(targets, [-1]))
        return tf.reduce_sum(xent * tf.reshape(mask, [-1]))

    def heldout_perplexity(self, sentences, vocab, chars, batch_size: int) -> float:
        """exp(mean full-softmax cross-entropy) over both directions, every sentence from zero state."""
        from norlm.elmo.data import padded_lm_batch

        total, count = 0.0, 0.0
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        for start in range(0, len(order), batch_size):
            batch = [sentences[i] for i in order[start:start + batch_size]]
            for d in range(2):
                c, t, m = padded_lm_batch(batch, vocab, chars, reverse=bool(d))
                total += float(self.eval_fns[d](c, t, m))
                count += float(m.sum())
        return math.exp(total / max(count, 1.0))

    # -------------------------------------------------------------- state <-> numpy
    def carried_states(self) -> dict[str, np.ndarray]:
        return {k.replace("/", "_"): v.numpy() for k, v in self.states.items()}

    def load_carried_states(self, arrays: dict[str, np.ndarray]) -> None:
        for k, v in self.states.items():
            v.assign(arrays[k.replace("/", "_")])


def negatives(seed: int, step: int, num_sampled: int, n_vocab: int) -> tuple[np.ndarray, int]:
    """The step's negatives, the same on every rank whatever the number of workers (the 0 is where
    the rank once was: one-worker runs still draw what they always drew)."""
    from norlm.elmo.sampler import log_uniform_unique

    return log_uniform_unique(np.random.default_rng([seed, 0, step, 7]), num_sampled, n_vocab)
