"""AdamW (decoupled weight decay) and Adam as plain TensorFlow variables, with a linear schedule.

Fine-tuning needs nothing more; writing it out keeps the code free of Keras and makes the
update rule visible: m, v moments with bias correction, then `w -= lr * (m_hat / (sqrt(v_hat) + eps)
+ wd * w)`, with no decay on biases and LayerNorm parameters (as BERT's optimiser does).
"""
from __future__ import annotations

import tensorflow as tf


def decays(name: str) -> bool:
    """Weight decay applies to weight matrices and embeddings, not to biases or LayerNorm."""
    lowered = name.lower()
    return not ("bias" in lowered or "layernorm" in lowered or "layer_norm" in lowered or "beta" in lowered
                or "gamma" in lowered)


class AdamW(tf.Module):
    """AdamW with an optional linear warm-up then linear decay of the learning rate to zero."""

    def __init__(self, variables, learning_rate: float, total_steps: int, weight_decay: float = 0.0,
                 warmup_steps: int = 0, decay_to_zero: bool = True, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-6, names=None, name: str = "adamw"):
        super().__init__(name=name)
        self.params = list(variables)
        self.learning_rate = float(learning_rate)
        self.total_steps = max(1, int(total_steps))
        self.warmup_steps = int(warmup_steps)
        self.decay_to_zero = decay_to_zero
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.weight_decay = float(weight_decay)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False, name="m") for v in self.params]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False, name="v") for v in self.params]
        names = list(names) if names is not None else [v.name for v in self.params]
        self.decay_mask = [self.weight_decay > 0 and decays(n) for n in names]

    def current_lr(self) -> tf.Tensor:
        step = tf.cast(self.step, tf.float32)
        lr = tf.constant(self.learning_rate, tf.float32)
        if self.warmup_steps > 0:
            lr = lr * tf.minimum(1.0, (step + 1.0) / float(self.warmup_steps))
        if self.decay_to_zero:
            span = float(max(1, self.total_steps - self.warmup_steps))
            past = tf.maximum(0.0, step - float(self.warmup_steps))
            lr = lr * tf.maximum(0.0, 1.0 - past / span)
        return lr

    def apply(self, grads) -> None:
        """One update from gradients aligned with `self.params` (None = no gradient)."""
        lr = self.current_lr()
        self.step.assign_add(1)
        t = tf.cast(self.step, tf.float32)
        c1 = 1.0 - tf.pow(self.beta1, t)
        c2 = 1.0 - tf.pow(self.beta2, t)
        for var, grad, m, v, decay in zip(self.params, grads, self.m, self.v, self.decay_mask):
            if grad is None:
                continue
            if isinstance(grad, tf.IndexedSlices):
                grad = tf.convert_to_tensor(grad)
            m.assign(self.beta1 * m + (1.0 - self.beta1) * grad)
            v.assign(self.beta2 * v + (1.0 - self.beta2) * tf.square(grad))
            update = (m / c1) / (tf.sqrt(v / c2) + self.epsilon)
            if decay:
                update += self.weight_decay * var
            var.assign_sub(lr * update)
