"""The bilm-tf biLM in pure TensorFlow: char CNN, highway, projection, LSTMP stacks, shared softmax.

Variables are kept under their TF1 training-graph names (`lm/CNN/W_cnn_0`,
`lm/RNN_0/rnn/multi_rnn_cell/cell_1/lstm_cell/kernel`, `lm/softmax/W`, ...; elmo-format spec
section 5.1) so export is a renaming, not a conversion.  The LSTMP cell is the TF1
`LSTMCell(num_proj, cell_clip, proj_clip)` exactly: one kernel over `[x; m_prev]` with gate blocks
i, j, f, o, forget bias +1 added at run time, and the projected output `m` as recurrent state.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf

from norlm.elmo.charcnn import max_pooled_convolutions
from norlm.elmo.chars import N_TRAIN_CHARS, PAD
from norlm.elmo.lstmp import lstmp_window

GATE_ORDER = "ijfo"  # column blocks of W_0 / B; tests flip this to prove the parity test can fail


def rnn_prefix(direction: int, layer: int, n_layers: int) -> str:
    """TF1 variable scope of one LSTM cell (no MultiRNNCell when there is a single layer)."""
    if n_layers == 1:
        return f"lm/RNN_{direction}/rnn/lstm_cell"
    return f"lm/RNN_{direction}/rnn/multi_rnn_cell/cell_{layer}/lstm_cell"


class ElmoModel(tf.Module):
    """Bidirectional LM with bilm-tf's variables; `n_vocab=None` builds it without the softmax."""

    def __init__(self, options: dict, n_vocab: int | None = None, seed: int = 0, name: str = "elmo"):
        super().__init__(name=name)
        cnn, lstm = options["char_cnn"], options["lstm"]
        self.dropout = float(options.get("dropout") or 0.0)  # (keep no dict: tf.Module would wrap it)
        self.filters = [tuple(f) for f in cnn["filters"]]
        self.char_dim = cnn["embedding"]["dim"]
        self.activation = tf.nn.relu if cnn["activation"] == "relu" else tf.nn.tanh
        self.n_highway = cnn.get("n_highway") or 0
        self.n_filters = sum(n for _, n in self.filters)
        self.dim = lstm["dim"]
        self.proj_dim = lstm["projection_dim"]
        self.n_layers = lstm["n_layers"]
        self.cell_clip = lstm.get("cell_clip")
        self.proj_clip = lstm.get("proj_clip")
        self.skip = bool(lstm["use_skip_connections"])
        self.has_projection = self.proj_dim < self.dim
        self.state_dim = self.proj_dim if self.has_projection else self.dim
        self.n_vocab = n_vocab
        rng = np.random.default_rng(seed)
        self.vars: dict[str, tf.Variable] = {}
        self._build(rng, cnn["activation"])

    # ------------------------------------------------------------------ variables
    def _add(self, name: str, value: np.ndarray) -> tf.Variable:
        var = tf.Variable(np.asarray(value, dtype=np.float32), name=name.replace("/", "."), trainable=True)
        self.vars[name] = var
        return var

    def _build(self, rng: np.random.Generator, activation: str) -> None:
        d = self.char_dim
        self._add("lm/char_embed", rng.uniform(-1.0, 1.0, (N_TRAIN_CHARS, d)))
        for i, (w, n) in enumerate(self.filters):
            if activation == "relu":
                kernel = rng.uniform(-0.05, 0.05, (1, w, d, n))
            else:
                kernel = rng.normal(0.0, np.sqrt(1.0 / (w * d)), (1, w, d, n))
            self._add(f"lm/CNN/W_cnn_{i}", kernel)
            self._add(f"lm/CNN/b_cnn_{i}", np.zeros(n))
        nf = self.n_filters
        for h in range(self.n_highway):
            self._add(f"lm/CNN_high_{h}/W_carry", rng.normal(0.0, np.sqrt(1.0 / nf), (nf, nf)))
            self._add(f"lm/CNN_high_{h}/b_carry", np.full(nf, -2.0))
            self._add(f"lm/CNN_high_{h}/W_transform", rng.normal(0.0, np.sqrt(1.0 / nf), (nf, nf)))
            self._add(f"lm/CNN_high_{h}/b_transform", np.zeros(nf))
        if nf != self.proj_dim:
            self._add("lm/CNN_proj/W_proj", rng.normal(0.0, np.sqrt(1.0 / nf), (nf, self.proj_dim)))
            self._add("lm/CNN_proj/b_proj", np.zeros(self.proj_dim))
        in_dim = self.proj_dim
        for direction in range(2):
            for layer in range(self.n_layers):
                prefix = rnn_prefix(direction, layer, self.n_layers)
                rows = in_dim + self.state_dim
                limit = np.sqrt(6.0 / (rows + 4 * self.dim))  # glorot_uniform, the get_variable default
                self._add(f"{prefix}/kernel", rng.uniform(-limit, limit, (rows, 4 * self.dim)))
                self._add(f"{prefix}/bias", np.zeros(4 * self.dim))
                if self.has_projection:
                    limit = np.sqrt(6.0 / (self.dim + self.proj_dim))
                    self._add(f"{prefix}/projection/kernel", rng.uniform(-limit, limit, (self.dim, self.proj_dim)))
        if self.n_vocab:
            self._add("lm/softmax/W", rng.normal(0.0, 1.0 / np.sqrt(self.proj_dim), (self.n_vocab, self.proj_dim)))
            self._add("lm/softmax/b", np.zeros(self.n_vocab))

    def variables_by_name(self) -> dict[str, tf.Variable]:
        return dict(self.vars)

    def trainable_list(self) -> list[tf.Variable]:
        return [self.vars[k] for k in sorted(self.vars)]

    def cell_vars(self, direction: int, layer: int) -> tuple[tf.Variable, tf.Variable, tf.Variable | None]:
        prefix = rnn_prefix(direction, layer, self.n_layers)
        return (self.vars[f"{prefix}/kernel"], self.vars[f"{prefix}/bias"],
                self.vars.get(f"{prefix}/projection/kernel"))

    # ------------------------------------------------------------------ token embedding
    def token_embedding(self, char_ids: tf.Tensor, shifted: bool = False, unique: bool = False) -> tf.Tensor:
        """(B, T, C) char ids -> (B, T, P).  `shifted`: inference ids (+1, 0 = no token, zero row).

        `unique`: run the CNN once per distinct token of the batch and gather the results (a word
        repeated in the batch costs one CNN pass; the same numbers, the gradient summed per word).
        """
        shape = tf.shape(char_ids)
        rows = tf.reshape(char_ids, [-1, char_ids.shape[-1] or shape[2]])  # keep the static width
        if unique:
            words, index = tf.raw_ops.UniqueV2(x=rows, axis=[0])
            words = tf.reshape(words, [-1, rows.shape[-1] or shape[2]])
            x = self._word_vectors(words, shifted)
            x = tf.gather(x, index)
        else:
            x = self._word_vectors(rows, shifted)
        return tf.reshape(x, tf.concat([shape[:2], [self.proj_dim]], axis=0))

    def _word_vectors(self, rows: tf.Tensor, shifted: bool) -> tf.Tensor:
        """(N, C) char ids -> (N, P): char CNN, highway, projection."""
        table = self.vars["lm/char_embed"]
        if shifted:
            table = tf.concat([tf.zeros([1, self.char_dim]), table], axis=0)
        kernels = [self.vars[f"lm/CNN/W_cnn_{i}"] for i in range(len(self.filters))]
        fillers = (PAD + 1, 0) if shifted else (PAD,)
        pooled = max_pooled_convolutions(table, [tf.convert_to_tensor(k) for k in kernels], rows, fillers)
        # the bias is added after the pool: max(x + b) == max(x) + b exactly (rounding is monotone)
        pooled = [self.activation(p + self.vars[f"lm/CNN/b_cnn_{i}"]) for i, p in enumerate(pooled)]
        x = tf.concat(pooled, axis=-1)  # (N, n_filters)
        for h in range(self.n_highway):
            w_carry, b_carry, w_transform, b_transform = (
                self.vars[f"lm/CNN_high_{h}/{n}"] for n in ("W_carry", "b_carry", "W_transform", "b_transform"))
            gate = tf.sigmoid(tf.matmul(x, w_carry) + b_carry)  # bilm-tf's "carry" gates the transform branch
            transform = tf.nn.relu(tf.matmul(x, w_transform) + b_transform)
            x = gate * transform + (1.0 - gate) * x
        if "lm/CNN_proj/W_proj" in self.vars:
            x = tf.matmul(x, self.vars["lm/CNN_proj/W_proj"]) + self.vars["lm/CNN_proj/b_proj"]
        return x

    # ------------------------------------------------------------------ LSTMP
    def _gates(self, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        blocks = dict(zip(GATE_ORDER, tf.split(z, 4, axis=1)))
        return blocks["i"], blocks["j"], blocks["f"], blocks["o"]

    def _cell(self, xw_t, c, m, w_rec, w_proj):
        i, j, f, o = self._gates(xw_t + tf.matmul(m, w_rec))
        c = tf.sigmoid(f + 1.0) * c + tf.sigmoid(i) * tf.tanh(j)
        if self.cell_clip:
            c = tf.clip_by_value(c, -self.cell_clip, self.cell_clip)
        m = tf.sigmoid(o) * tf.tanh(c)
        if w_proj is not None:
            m = tf.matmul(m, w_proj)
            if self.proj_clip:
                m = tf.clip_by_value(m, -self.proj_clip, self.proj_clip)
        return c, m

    def lstm_layer(self, direction: int, layer: int, x: tf.Tensor, c: tf.Tensor, m: tf.Tensor,
                   mask: tf.Tensor | None = None):
        """Run one LSTMP layer over (B, T, in) from state (c, m); returns outputs (B, T, S) and (c, m).

        With a static T (training windows) the loop is unrolled; otherwise it is a tf.while_loop.
        `mask` (B, T) keeps the state and zeroes the output where False (padding), like dynamic_rnn.
        """
        kernel, bias, w_proj = self.cell_vars(direction, layer)
        in_dim = x.shape[-1]
        w_in, w_rec = tf.split(kernel, [in_dim, kernel.shape[0] - in_dim])  # gradient: one concat
        # the input part of every step at once, as one 2-D matmul (einsum would transpose)
        xw = tf.reshape(tf.matmul(tf.reshape(x, [-1, in_dim]), w_in), tf.concat([tf.shape(x)[:2], [-1]], 0)) + bias
        if x.shape[1] is not None:
            xw = tf.ensure_shape(xw, [None, x.shape[1], kernel.shape[1]])
        steps = x.shape[1]
        if steps is not None and mask is None:  # unrolled, with the hand-written backward (lstmp.py)
            return lstmp_window(xw, c, m, w_rec, w_proj, GATE_ORDER, self.cell_clip,
                                self.proj_clip if self.has_projection else None)
        xw_t = tf.transpose(xw, [1, 0, 2])
        mask_t = tf.transpose(tf.cast(mask, tf.float32), [1, 0])[:, :, None]
        n = tf.shape(xw_t)[0]
        outs = tf.TensorArray(tf.float32, size=n)

        def body(t, c, m, outs):
            c_new, m_new = self._cell(xw_t[t], c, m, w_rec, w_proj)
            keep = mask_t[t]
            c = keep * c_new + (1.0 - keep) * c
            m = keep * m_new + (1.0 - keep) * m
            return t + 1, c, m, outs.write(t, m_new * keep)

        _, c, m, outs = tf.while_loop(lambda t, *_: t < n, body, [tf.constant(0), c, m, outs])
        return tf.transpose(outs.stack(), [1, 0, 2]), c, m

    def stack(self, direction: int, emb: tf.Tensor, states: Sequence[tuple[tf.Tensor, tf.Tensor]],
              dropout_seed: tf.Tensor | None = None, mask: tf.Tensor | None = None):
        """All layers of one direction.  Returns (per-layer outputs with residuals, new states).

        Training (dropout_seed given): dropout on every layer input (keep 1 - dropout); the residual
        adds the dropped-out input, as DropoutWrapper(ResidualWrapper(cell)) does.
        """
        rate = self.dropout if dropout_seed is not None else 0.0
        x = emb
        outputs, new_states = [], []
        for layer in range(self.n_layers):
            inp = x
            if rate > 0:
                seed = tf.random.experimental.stateless_fold_in(dropout_seed, 10 * direction + layer)
                inp = tf.nn.experimental.stateless_dropout(x, rate, seed=seed)
            out, c, m = self.lstm_layer(direction, layer, inp, *states[layer], mask=mask)
            if layer > 0 and self.skip:
                out = out + inp
            outputs.append(out)
            new_states.append((c, m))
            x = out
        return outputs, new_states

    def zero_states(self, batch: int) -> list[tuple[tf.Tensor, tf.Tensor]]:
        return [(tf.zeros([batch, self.dim]), tf.zeros([batch, self.state_dim])) for _ in range(self.n_layers)]

    # ------------------------------------------------------------------ losses
    def full_softmax_xent(self, top: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
        """Per-position cross-entropy with the full softmax (test / perplexity)."""
        logits = tf.matmul(top, self.vars["lm/softmax/W"], transpose_b=True) + self.vars["lm/softmax/b"]
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
