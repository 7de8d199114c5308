"""`bert-train --eval DIR`: NVIDIA's held-out metrics (weighted MLM accuracy/loss, NSP accuracy/loss)."""
from __future__ import annotations

from pathlib import Path

from norlm.errors import StageError


def evaluate(trainer, eval_dir: str, bcfg, seq_len: int, max_pred: int) -> dict:
    """NVIDIA's eval metrics on held-out TFRecords: weighted MLM accuracy/loss, NSP accuracy/loss."""
    import numpy as np
    import tensorflow as tf

    from norlm.bert.train.input import make_dataset
    from norlm.bert.train.losses import pretraining_losses

    files = sorted(str(p) for p in Path(eval_dir).glob("*.tfrecord"))
    if not files:
        raise StageError(f"{eval_dir}: no *.tfrecord files to evaluate on")
    model = trainer.model

    @tf.function
    def run(batch):
        out = model(batch["input_ids"], batch["input_mask"], batch["segment_ids"], batch["masked_lm_positions"])
        losses = pretraining_losses(out, batch)
        w = tf.reduce_sum(batch["masked_lm_weights"])
        return losses, w, tf.cast(tf.shape(batch["input_ids"])[0], tf.float32)

    sums = {"mlm_loss": 0.0, "mlm_acc": 0.0, "nsp_loss": 0.0, "nsp_acc": 0.0, "w": 0.0, "n": 0.0}
    for i, batch in enumerate(make_dataset(files, bcfg.eval_batch_size, seq_len, max_pred, is_training=False)):
        if i >= bcfg.eval_batches:
            break
        losses, w, n = run(batch)
        w, n = float(w), float(n)
        sums["mlm_loss"] += float(losses["mlm_loss"]) * w
        sums["mlm_acc"] += float(losses["mlm_accuracy"]) * w
        sums["nsp_loss"] += float(losses["nsp_loss"]) * n
        sums["nsp_acc"] += float(losses["nsp_accuracy"]) * n
        sums["w"] += w
        sums["n"] += n
    return {"masked_lm_accuracy": sums["mlm_acc"] / max(sums["w"], 1e-9),
            "masked_lm_loss": sums["mlm_loss"] / max(sums["w"], 1e-9),
            "next_sentence_accuracy": sums["nsp_acc"] / max(sums["n"], 1e-9),
            "next_sentence_loss": sums["nsp_loss"] / max(sums["n"], 1e-9),
            "sequences": int(sums["n"]), "files": len(files), "checked": bool(np.isfinite(sums["mlm_loss"]))}
