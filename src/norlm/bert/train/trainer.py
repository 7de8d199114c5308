"""The BERT training step: model, NVLAMB/AdamW, loss scaling and gradient accumulation, compiled.

`Trainer.step` runs one update (N micro-batches when accumulating) and returns the metrics of the
last micro-batch as Python numbers; everything that must survive a restart (weights, optimiser
slots, step, loss scale, input position) lives in variables that `CheckpointKeeper` saves.
Dropout seeds are stateless functions of (run seed, micro-batch position, rank), so a resumed run
draws the same masks as an uninterrupted one.
"""
from __future__ import annotations

from norlm import engines


class Trainer:
    """Model + optimiser + state, and the compiled micro-step / update functions."""

    def __init__(self, bert_cfg, train_cfg, phase_cfg, seed: int, precision: str = "fp32", xla: bool = False):
        import tensorflow as tf

        from norlm.bert.train.checkpoint import TrainState
        from norlm.bert.train.lamb import Lamb
        from norlm.bert.model import BertPretrainingModel

        self.tf = tf
        self.precision = precision
        compute = {"fp32": tf.float32, "fp16": tf.float16, "bf16": tf.bfloat16}[precision]
        self.model = BertPretrainingModel(bert_cfg, seed=seed, compute_dtype=compute)
        self.names = list(self.model.vars)
        self.opt = Lamb(self.model.vars, kind=train_cfg.optimizer, beta_1=train_cfg.beta_1,
                        beta_2=train_cfg.beta_2, epsilon=train_cfg.epsilon, weight_decay=train_cfg.weight_decay)
        self.state = TrainState(train_cfg.init_loss_scale if precision == "fp16" else 1.0)
        self.cfg = train_cfg
        self.accum_steps = phase_cfg.accumulation_steps
        self.set_schedule(phase_cfg)
        if self.accum_steps > 1:
            self.accum = {n: tf.Variable(tf.zeros_like(v), trainable=False) for n, v in self.model.vars.items()}
            self.batch_finite = tf.Variable(True, trainable=False)
        self._micro = tf.function(self._micro_step, jit_compile=xla, reduce_retracing=True)
        self._fused = tf.function(self._fused_step, jit_compile=xla, reduce_retracing=True)
        self._apply = tf.function(self._apply_accumulated)

    def set_schedule(self, phase_cfg) -> None:
        lr = phase_cfg.learning_rate * (engines.size() if self.cfg.scale_lr_by_workers else 1)
        self.init_lr, self.total_steps, self.warmup_steps = lr, phase_cfg.train_steps, phase_cfg.warmup_steps

    def all_variables(self) -> list:
        return list(self.model.vars.values()) + self.opt.slot_variables() + self.state.variables_list()

    # -- pieces used inside tf.function
    def _gradients(self, batch, seed):
        tf = self.tf
        from norlm.bert.train.losses import pretraining_losses

        variables = [self.model.vars[n] for n in self.names]
        scale = self.state.loss_scale if self.precision == "fp16" else tf.constant(1.0)
        with tf.GradientTape() as tape:
            out = self.model(batch["input_ids"], batch["input_mask"], batch["segment_ids"],
                             batch["masked_lm_positions"], training=True, seed=seed)
            losses = pretraining_losses(out, batch)
            scaled = losses["total_loss"] * scale / float(self.accum_steps)
        tape = engines.distributed_tape(tape, fp16_compression=self.precision == "fp16")
        grads = tape.gradient(scaled, variables)
        grads = [tf.convert_to_tensor(g) / scale for g in grads]
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
        from norlm.bert.train.lamb import clip_by_global_norm

        clipped, norm = clip_by_global_norm(grads, self.cfg.clip_norm)
        losses["grad_norm"] = norm
        return clipped, finite, losses

    def _update(self, grads: list, finite):
        """Apply LAMB if `finite` (step += 1) else shrink the loss scale; returns the LR used."""
        tf = self.tf
        from norlm.bert.train.schedule import learning_rate

        st = self.state
        lr = learning_rate(st.global_step, self.init_lr, self.total_steps, self.warmup_steps, self.cfg.optimizer)
        named = dict(zip(self.names, grads))

        def apply():
            self.opt.apply(named, self.model.vars, lr, st.global_step + 1)
            st.global_step.assign_add(1)
            if self.precision == "fp16":
                st.good_steps.assign_add(1)
                grow = st.good_steps >= self.cfg.loss_scale_window
                st.loss_scale.assign(tf.where(grow, st.loss_scale * 2.0, st.loss_scale))
                st.good_steps.assign(tf.where(grow, tf.constant(0, tf.int64), st.good_steps))
            return tf.constant(True)

        def skip():
            st.loss_scale.assign(tf.maximum(st.loss_scale / 2.0, 1.0))
            st.good_steps.assign(0)
            return tf.constant(False)

        # fp16: an overflow halves the scale and skips; fp32/bf16: a non-finite gradient skips the update
        # too (weights stay good) and the trainer stops the run
        applied = tf.cond(finite, apply, skip if self.precision == "fp16" else (lambda: tf.constant(False)))
        return lr, applied

    def _fused_step(self, batch, seed):
        grads, finite, losses = self._gradients(batch, seed)
        lr, applied = self._update(grads, finite)
        losses.update(learning_rate=lr, applied=applied)
        return losses

    def _micro_step(self, batch, seed):
        grads, finite, losses = self._gradients(batch, seed)
        for name, g in zip(self.names, grads):
            self.accum[name].assign_add(g)
        self.batch_finite.assign(self.batch_finite & finite)
        return losses

    def _apply_accumulated(self):
        tf = self.tf
        grads = [self.accum[n].read_value() for n in self.names]
        lr, applied = self._update(grads, self.batch_finite.read_value())
        for n in self.names:
            self.accum[n].assign(tf.zeros_like(self.accum[n]))
        self.batch_finite.assign(True)
        return lr, applied

    def dropout_seed(self, run_seed: int):
        """Stateless dropout seed from (run seed, micro-batch position, rank): the same after resume."""
        position = int(self.state.input_position.numpy())
        return self.tf.constant([run_seed, position * engines.size() + engines.rank()], self.tf.int64)

    def step(self, batches_iter, run_seed: int) -> dict:
        """One update (N micro-batches); returns python floats of the last micro-batch's metrics."""
        tf = self.tf
        if self.accum_steps == 1:
            seed = self.dropout_seed(run_seed)
            out = self._fused(next(batches_iter), seed)
            self.state.input_position.assign_add(1)
        else:
            for _ in range(self.accum_steps):
                seed = self.dropout_seed(run_seed)
                out = self._micro(next(batches_iter), seed)
                self.state.input_position.assign_add(1)
            lr, applied = self._apply()
            out = dict(out, learning_rate=lr, applied=applied)
        return {k: (bool(v.numpy()) if v.dtype == tf.bool else float(v.numpy())) for k, v in out.items()}
