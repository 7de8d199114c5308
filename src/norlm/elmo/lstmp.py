"""The LSTMP recurrence of one training window with a hand-written backward pass through time.

Why: autodiff of the unrolled TF1 `LSTMCell(num_proj, cell_clip, proj_clip)` computes the recurrent
and projection weight gradients as one small matmul per time step (a contraction over the batch
rows only) plus many tiny elementwise ops.  Here the backward loop carries only dm and dc; the two
weight gradients are one matmul each over all B·T rows, and every factor that does not depend on the
recurrence (gate derivatives, clip masks) is computed once for the whole window.  The forward values
are the cell's: z = xw_t + m·W_rec, forget bias +1, c and m clipped; the gradient is the same
function, summed in another order.
"""
from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

def _clip(x, limit):
    return tf.clip_by_value(x, -limit, limit) if limit else x


def _pass_mask(x, limit):
    """clip_by_value's gradient mask (inclusive bounds), as 0/1 floats."""
    return tf.cast(tf.abs(x) <= limit, x.dtype)


class _Window:
    """Forward and backward loops of one window for fixed steps, gate order, clips and projection."""

    def __init__(self, steps: int, h: int, order: str, cell_clip, proj_clip, has_proj: bool):
        self.steps, self.h, self.order = steps, h, order
        self.cell_clip, self.proj_clip, self.has_proj = cell_clip, proj_clip, has_proj
        self.pos = {g: k for k, g in enumerate(order)}
        self.forget = np.repeat([1.0 if g == "f" else 0.0 for g in order], h).astype(np.float32)

    def forward(self, xw, c0, m0, w_rec, w_p):
        """Returns outputs (B, T, S), c_T, m_T and the time-major tensors the backward loop needs."""
        pos, h = self.pos, self.h
        j0 = pos["j"] * h
        c, m = c0, m0
        keep = {k: [] for k in ("sig", "tanh_j", "tanh_c", "hid", "c_prev", "m_prev", "c_raw", "m_raw")}
        for xw_t in tf.unstack(xw, num=self.steps, axis=1):
            keep["c_prev"].append(c), keep["m_prev"].append(m)
            z = xw_t + tf.matmul(m, w_rec) + self.forget
            s = tf.sigmoid(z)  # its j block is not used: tanh below
            t = tf.tanh(z[:, j0:j0 + h])
            g = tf.split(s, 4, axis=1)
            c_raw = g[pos["f"]] * c + g[pos["i"]] * t
            c = _clip(c_raw, self.cell_clip)
            tc = tf.tanh(c)
            hid = g[pos["o"]] * tc
            m_raw = tf.matmul(hid, w_p) if self.has_proj else hid
            m = _clip(m_raw, self.proj_clip) if self.has_proj else m_raw
            for k, v in (("sig", s), ("tanh_j", t), ("tanh_c", tc), ("hid", hid), ("c_raw", c_raw), ("m_raw", m_raw)):
                keep[k].append(v)
        outputs = tf.stack(keep["m_prev"][1:] + [m], axis=1)
        saved = [tf.stack(keep[k]) for k in ("sig", "tanh_j", "tanh_c", "hid", "c_prev", "m_prev")]
        saved.append(_pass_mask(tf.stack(keep["c_raw"]), self.cell_clip) if self.cell_clip else tf.zeros([0]))
        clip_m = self.has_proj and self.proj_clip
        saved.append(_pass_mask(tf.stack(keep["m_raw"]), self.proj_clip) if clip_m else tf.zeros([0]))
        return outputs, c, m, saved

    def backward(self, saved, w_rec, w_p, d_out, d_c, d_m):
        """Gradients for (xw, c0, m0, w_rec[, w_p]) from those of (outputs, c_T, m_T)."""
        pos, order, steps, h = self.pos, self.order, self.steps, self.h
        sig, tj, tc, hid, c_prev, m_prev, c_mask, m_mask = saved
        g = tf.split(sig, 4, axis=2)
        si, sf, so = g[pos["i"]], g[pos["f"]], g[pos["o"]]
        factor = {"i": tj * (si * (1.0 - si)), "j": si * (1.0 - tj * tj),
                  "f": c_prev * (sf * (1.0 - sf)), "o": tc * (so * (1.0 - so))}
        factor = tf.unstack(tf.concat([factor[k] for k in order], axis=2), num=steps)
        dc_from_h = tf.unstack(so * (1.0 - tc * tc), num=steps)
        c_mask = tf.unstack(c_mask, num=steps) if self.cell_clip else None
        m_mask = tf.unstack(m_mask, num=steps) if self.has_proj and self.proj_clip else None
        forget = tf.unstack(sf, num=steps)
        d_outs = tf.unstack(d_out, num=steps, axis=1)
        dm_next, dc_next = d_m, d_c
        dzs, dm_raws = [None] * steps, [None] * steps
        for t in reversed(range(steps)):
            dm = d_outs[t] + dm_next
            if m_mask is not None:
                dm = dm * m_mask[t]
            dm_raws[t] = dm
            dh = tf.matmul(dm, w_p, transpose_b=True) if self.has_proj else dm
            dc = dc_next + dh * dc_from_h[t]
            if c_mask is not None:
                dc = dc * c_mask[t]
            dc_next = dc * forget[t]
            dzs[t] = tf.concat([dh if k == "o" else dc for k in order], axis=1) * factor[t]
            dm_next = tf.matmul(dzs[t], w_rec, transpose_b=True)
        dz = tf.stack(dzs)  # (T, B, 4H)
        s_dim = m_prev.shape[-1]
        rows = tf.shape(dz)[0] * tf.shape(dz)[1]
        d_w_rec = tf.matmul(tf.reshape(m_prev, [rows, s_dim]), tf.reshape(dz, [rows, 4 * h]), transpose_a=True)
        grads = [tf.transpose(dz, [1, 0, 2]), dc_next, dm_next, d_w_rec]
        if self.has_proj:
            grads.append(tf.matmul(tf.reshape(hid, [rows, h]), tf.reshape(tf.stack(dm_raws), [rows, s_dim]),
                                   transpose_a=True))
        return grads


@functools.lru_cache(maxsize=None)
def _window(steps: int, h: int, order: str, cell_clip, proj_clip, has_proj: bool):
    """The custom-gradient window function for one configuration (built once, reused)."""
    loops = _Window(steps, h, order, cell_clip, proj_clip, has_proj)
    forward, backward = loops.forward, loops.backward  # (XLA-compiling these was 2-6x slower on CPU)

    @tf.custom_gradient
    def window(xw, c0, m0, w_rec, *proj):
        w_p = proj[0] if has_proj else None
        outputs, c, m, saved = forward(xw, c0, m0, w_rec, w_p)

        def grad(d_out, d_c, d_m):
            d_out = tf.zeros_like(outputs) if d_out is None else d_out
            d_c = tf.zeros_like(c) if d_c is None else d_c
            d_m = tf.zeros_like(m) if d_m is None else d_m
            return backward(saved, w_rec, w_p, d_out, d_c, d_m)

        return (outputs, c, m), grad

    return window


def lstmp_window(xw, c0, m0, w_rec, w_proj, order: str = "ijfo", cell_clip=None, proj_clip=None):
    """xw (B, T, 4H): input part + bias of every step (static T); returns (outputs (B, T, S), c_T, m_T).

    `order` names the gate of each column block of the kernel; `w_proj` None = no projection (S = H).
    """
    has_proj = w_proj is not None
    fn = _window(xw.shape[1], xw.shape[-1] // 4, order, cell_clip or None, (proj_clip or None) if has_proj else None,
                 has_proj)
    proj = (tf.convert_to_tensor(w_proj),) if has_proj else ()
    return fn(xw, c0, m0, tf.convert_to_tensor(w_rec), *proj)
