"""NVLAMB and AdamW exactly as NVIDIA's TF1 BERT `optimization.py` computes them (bert-recipe §2.5).

Per variable, with g already clipped by the global norm:
    m <- b1 m + (1-b1) g ;  v <- b2 v + (1-b2) g^2
    LAMB:  m^ = m/(1-b1^t), v^ = v/(1-b2^t), u = m^/(sqrt(v^)+eps) + wd w,
           r = |w|/|u| if both norms > 0 else 1,  w <- w - lr r u
    Adam:  u = m/(sqrt(v)+eps) + wd w  (no bias correction, no trust ratio),  w <- w - lr u
where t counts the update being applied (1 on the first), and weight decay is skipped for variables
whose name contains LayerNorm, layer_norm or bias.  Slots are fp32 `<var>/adam_m`, `<var>/adam_v`,
created eagerly so a checkpoint can be restored into them before the first step.
"""
from __future__ import annotations

import tensorflow as tf

WEIGHT_DECAY_EXCLUDE = ("LayerNorm", "layer_norm", "bias")


def uses_weight_decay(name: str, exclude: tuple[str, ...] = WEIGHT_DECAY_EXCLUDE) -> bool:
    return not any(token in name for token in exclude)


def clip_by_global_norm(grads: list[tf.Tensor], clip_norm: float = 1.0) -> tuple[list[tf.Tensor], tf.Tensor]:
    """NVIDIA's clip: scale by clip/max(norm, clip), using norm 1.0 when any gradient is non-finite."""
    norm = tf.linalg.global_norm(grads)
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
    use_norm = tf.where(finite, norm, tf.constant(1.0, norm.dtype))
    clipped, _ = tf.clip_by_global_norm(grads, clip_norm, use_norm=use_norm)
    return clipped, norm


class Lamb(tf.Module):
    """LAMB (`kind="lamb"`) or AdamW (`kind="adam"`) over a dict of named fp32 variables."""

    def __init__(self, variables: dict[str, tf.Variable], kind: str = "lamb", beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-6, weight_decay: float = 0.01,
                 exclude_from_weight_decay: tuple[str, ...] = WEIGHT_DECAY_EXCLUDE):
        super().__init__(name="optimizer")
        if kind not in ("lamb", "adam"):
            raise ValueError(f"optimizer must be 'lamb' or 'adam', not {kind!r}")
        self.kind = kind
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.weight_decay = weight_decay
        self.exclude = tuple(exclude_from_weight_decay)
        self.names = list(variables)
        self.m = {n: tf.Variable(tf.zeros_like(v), trainable=False, name=f"{n}/adam_m")
                  for n, v in variables.items()}
        self.v = {n: tf.Variable(tf.zeros_like(v), trainable=False, name=f"{n}/adam_v")
                  for n, v in variables.items()}

    def slot_variables(self) -> list[tf.Variable]:
        return [self.m[n] for n in self.names] + [self.v[n] for n in self.names]

    def apply(self, grads: dict[str, tf.Tensor], variables: dict[str, tf.Variable], lr, t) -> None:
        """One update of every variable; `t` = number of this update (1 on the first)."""
        t = tf.cast(t, tf.float32)
        lr = tf.cast(lr, tf.float32)
        b1, b2 = self.beta_1, self.beta_2
        for name in self.names:
            w = variables[name]
            g = tf.cast(grads[name], tf.float32)
            m = self.m[name].assign(b1 * self.m[name] + (1.0 - b1) * g)
            v = self.v[name].assign(b2 * self.v[name] + (1.0 - b2) * tf.square(g))
            if self.kind == "lamb":
                m_hat = m / (1.0 - tf.pow(b1, t))
                v_hat = v / (1.0 - tf.pow(b2, t))
                update = m_hat / (tf.sqrt(v_hat) + self.epsilon)
            else:
                update = m / (tf.sqrt(v) + self.epsilon)
            if self.weight_decay and uses_weight_decay(name, self.exclude):
                update += self.weight_decay * w
            if self.kind == "lamb":
                w_norm = tf.norm(w)
                u_norm = tf.norm(update)
                ratio = tf.where((w_norm > 0.0) & (u_norm > 0.0), w_norm / tf.maximum(u_norm, 1e-30), 1.0)
                update = ratio * update
            w.assign_sub(lr * update)
