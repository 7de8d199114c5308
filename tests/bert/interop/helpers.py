"""Shared helpers for the export/import parity tests: batches and logits from both frameworks."""
from __future__ import annotations

import numpy as np


def batch(tokenizer, pairs: list[tuple[str, str]], max_len: int = 48) -> dict[str, np.ndarray]:
    """Padded [B, T] int arrays for sentence pairs from one of our `tokenizers.Tokenizer`s."""
    encs = [tokenizer.encode(a, b) for a, b in pairs]
    width = min(max_len, max(len(e.ids) for e in encs))
    out = {k: np.zeros((len(encs), width), np.int32) for k in ("input_ids", "input_mask", "segment_ids")}
    for i, enc in enumerate(encs):
        n = min(width, len(enc.ids))
        out["input_ids"][i, :n] = enc.ids[:n]
        out["input_mask"][i, :n] = 1
        out["segment_ids"][i, :n] = enc.type_ids[:n]
    return out


def our_logits(model, feats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """MLM logits at every position [B, T, V] and NSP logits [B, 2] from our TF model."""
    b, t = feats["input_ids"].shape
    positions = np.tile(np.arange(t, dtype=np.int32), (b, 1))
    out = model(feats["input_ids"], feats["input_mask"], feats["segment_ids"], positions, training=False)
    return out["mlm_logits"].numpy(), out["nsp_logits"].numpy()


def hf_logits(hf_model, feats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    import torch

    hf_model.eval()
    with torch.no_grad():
        out = hf_model(input_ids=torch.tensor(feats["input_ids"], dtype=torch.long),
                       attention_mask=torch.tensor(feats["input_mask"], dtype=torch.long),
                       token_type_ids=torch.tensor(feats["segment_ids"], dtype=torch.long))
    return out.prediction_logits.numpy(), out.seq_relationship_logits.numpy()


PAIRS = [
    ("Jeg vi elsker dette landet.", "Som det stiger frem."),
    ("Øyafestivalen begynner endelig å ta klubbmusikk på alvor.", "Det er bra."),
    ("Nynorsk: Eg likar ikkje å køyre bil.", "Kva tid kjem toget?"),
    ("Kort.", "En mye lengre setning med æ, ø og å, og noen ukjente ord som Zyxwvqø."),
]


def assert_logits_match(model, hf_model, feats: dict[str, np.ndarray], tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Our MLM logits (real tokens only) and NSP logits equal the Hugging Face model's within `tol`;
    returns ours (MLM, NSP) for further checks."""
    ours_mlm, ours_nsp = our_logits(model, feats)
    hf_mlm, hf_nsp = hf_logits(hf_model, feats)
    real = feats["input_mask"].astype(bool)
    assert ours_mlm.shape == hf_mlm.shape == (*feats["input_ids"].shape, model.config.vocab_size)
    assert np.abs(ours_mlm[real] - hf_mlm[real]).max() < tol
    assert np.abs(ours_nsp - hf_nsp).max() < tol
    return ours_mlm, ours_nsp
