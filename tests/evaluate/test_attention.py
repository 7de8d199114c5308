"""`norlm bert-attention`: offset masses on known patterns, parity of our attention with Transformers',
and the CLI on an exported folder."""
from __future__ import annotations

import json

import numpy as np
import pytest

from norlm.evaluate.attention import measure, offset_mass
from tests.bert.interop.helpers import PAIRS, batch
from tests.conftest import run_norlm

SENTENCES = [
    "Regjeringen la i dag fram statsbudsjettet for neste år .",
    "Han bor i Bergen og jobber som lærer på en skole i sentrum .",
    "Det var en fin dag i Oslo , og barna lekte i parken hele ettermiddagen .",
    "Kommunen vil bygge en ny skole .",
]


def _shifted(t: int, offset: int) -> np.ndarray:
    """[T, T] attention where query i looks only at key i+offset (itself where that is outside)."""
    probs = np.zeros((t, t), np.float32)
    for i in range(t):
        j = i + offset if 0 <= i + offset < t else i
        probs[i, j] = 1.0
    return probs


def test_offset_mass_of_known_patterns():
    t = 6
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], np.int32)
    uniform = mask[:, None, :] / mask.sum(1)[:, None, None]  # [B, 1, T] -> every query spreads over real keys
    probs = np.stack([np.stack([_shifted(t, -1), _shifted(t, +1), np.broadcast_to(uniform[b], (t, t))])
                      for b in range(2)])  # [B=2, H=3, T, T]
    stats = offset_mass(probs, mask)
    assert stats["previous"][0] == pytest.approx(1.0) and stats["next"][0] == pytest.approx(0.0)
    assert stats["next"][1] == pytest.approx(1.0) and stats["previous"][1] == pytest.approx(0.0)
    # uniform head: 1/6 for the first sequence (5 pairs), 1/4 for the second (3 pairs)
    assert stats["previous"][2] == pytest.approx((5 / 6 + 3 / 4) / 8)
    assert stats["self"][0] == pytest.approx(2 / 10)  # only query 0 of each sequence falls back on itself
    assert stats["peak"][0] == pytest.approx(1.0)


class _FixedAttention:
    """Stands in for a model: `encode` reports a previous-token head and a uniform head in one layer."""

    def __init__(self, t: int):
        self.t = t

    def encode(self, input_ids, input_mask, segment_ids, attention_out=None):
        import tensorflow as tf

        b = int(input_ids.shape[0])
        heads = np.stack([_shifted(self.t, -1), np.full((self.t, self.t), 1.0 / self.t, np.float32)])
        attention_out.append(tf.constant(np.broadcast_to(heads, (b, 2, self.t, self.t))))
        return None, None


def test_measure_flags_only_the_positional_head():
    t = 64
    ids = np.ones((3, t), np.int32)
    rows = measure(_FixedAttention(t), ids, np.ones((3, t), np.int32))
    assert [(r["layer"], r["head"], r["positional"]) for r in rows] == [(0, 0, True), (0, 1, False)]
    assert rows[0]["uniform"] == pytest.approx(1 / t)
    assert rows[1]["previous"] == pytest.approx(1 / t, rel=1e-5)


def test_attention_equals_transformers(exported):
    import torch
    from transformers import BertModel

    from norlm.evaluate.bert_models import load_bert

    bundle = load_bert(exported / "hf")
    feats = batch(bundle.tokenizer, PAIRS)
    ours: list = []
    bundle.model.encode(feats["input_ids"], feats["input_mask"], feats["segment_ids"], attention_out=ours)
    hf = BertModel.from_pretrained(exported / "hf", attn_implementation="eager").eval()
    with torch.no_grad():
        out = hf(input_ids=torch.tensor(feats["input_ids"]).long(),
                 attention_mask=torch.tensor(feats["input_mask"]).long(),
                 token_type_ids=torch.tensor(feats["segment_ids"]).long(), output_attentions=True)
    assert len(ours) == len(out.attentions) == 2
    mask = feats["input_mask"].astype(bool)
    real = mask[:, None, :, None] & mask[:, None, None, :]
    for a, b in zip(ours, out.attentions):
        diff = np.abs(a.numpy() - b.numpy())[np.broadcast_to(real, a.shape)]
        assert diff.max() < 1e-5


def test_cli_reports_every_head(exported, tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("\n".join(SENTENCES * 20) + "\n", encoding="utf-8")
    out = tmp_path / "attention.json"
    proc = run_norlm("bert-attention", "--model", str(exported / "hf"), "--text", str(text),
                     "--sequences", "4", "--max-length", "64", "--json", str(out), work=tmp_path)
    report = json.loads(out.read_text())
    assert report["sequences"] == 4 and len(report["heads"]) == 2 * 4  # 2 layers x 4 heads (TINY)
    assert report["uniform"] == pytest.approx(1 / 64)  # every packed sequence is full
    for row in report["heads"]:
        assert 0.0 <= row["previous"] <= 1.0 and 0.0 <= row["self"] <= row["peak"] <= 1.0
    assert "positional heads:" in proc.stdout and "uniform attention = 0.0156" in proc.stdout


def test_cli_refuses_missing_inputs(exported, tmp_path):
    proc = run_norlm("bert-attention", "--model", str(tmp_path / "nothing"), "--text", str(tmp_path / "none.txt"),
                     work=tmp_path, check=False)
    assert proc.returncode == 2 and "none.txt: no such file" in proc.stderr
    text = tmp_path / "t.txt"
    text.write_text("Hei .\n", encoding="utf-8")
    proc = run_norlm("bert-attention", "--model", str(tmp_path / "nothing"), "--text", str(text),
                     work=tmp_path, check=False)
    assert proc.returncode == 2 and "no config.json" in proc.stderr
