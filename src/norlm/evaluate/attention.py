"""Where a BERT's attention heads look: the mass on the previous token, the next token and itself.

    norlm bert-attention [--model WORK/bert/export/hf] [--text FILE] [--sequences 32] [--json OUT]

The first structure an MLM learns after the unigram plateau is heads that attend to a fixed offset
(the previous or the next token).  While every head's mass on its neighbours stays at the uniform
level (1 / number of real tokens), the encoder still reads its input as a bag of words, and its
features do no better than a random-init model's on POS or NER (logs/demo/FINDINGS.md).  This tool
measures that for any Hugging Face BERT folder (ours or imported), on real text.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

POSITIONAL = 0.1  # a head is "positional" when its previous- or next-token mass reaches this (and 5x uniform)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="Hugging Face BERT folder (default WORK/bert/export/hf)")
    parser.add_argument("--text", default=None,
                        help="text file (.txt or .txt.gz, a sentence per line; default: the first WORK/corpus shard)")
    parser.add_argument("--sequences", type=int, default=32, help="sequences to measure on (default 32)")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per sequence (default 128)")
    parser.add_argument("--json", default=None, help="also write the per-head table to this JSON file")


def offset_mass(probs: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Mean attention on the previous token, the next token and itself, and the mean peak, per head.

    `probs` is [B, heads, T, T] (query x key), `mask` [B, T] with 1 for real tokens.  Only queries
    whose neighbour is a real token count for `previous` / `next`.
    """
    mask = mask.astype(bool)
    b, h, t, _ = probs.shape
    idx = np.arange(t)
    diag = probs[:, :, idx, idx]  # [B, H, T]
    prev = probs[:, :, idx[1:], idx[:-1]]  # query i, key i-1
    nxt = probs[:, :, idx[:-1], idx[1:]]  # query i, key i+1
    peak = probs.max(-1)

    def mean(x, m):
        m = np.broadcast_to(m[:, None, :], x.shape)
        return (x * m).sum((0, 2)) / m.sum((0, 2))

    pair = mask[:, 1:] & mask[:, :-1]
    return {"previous": mean(prev, pair), "next": mean(nxt, pair), "self": mean(diag, mask), "peak": mean(peak, mask)}


def measure(model, input_ids: np.ndarray, input_mask: np.ndarray) -> list[dict]:
    """One row per (layer, head) with the offset masses; `uniform` = 1 / mean real length."""
    import tensorflow as tf

    layers: list = []
    model.encode(tf.constant(input_ids), tf.constant(input_mask), tf.zeros_like(input_ids), attention_out=layers)
    uniform = float(1.0 / input_mask.sum(1).mean())
    rows = []
    for layer, probs in enumerate(layers):
        stats = offset_mass(probs.numpy(), input_mask)
        for head in range(len(stats["self"])):
            row = {"layer": layer, "head": head, **{k: float(v[head]) for k, v in stats.items()}, "uniform": uniform}
            row["positional"] = bool(max(row["previous"], row["next"]) >= max(POSITIONAL, 5 * uniform))
            rows.append(row)
    return rows


def pack_sequences(lines, tokenizer, n: int, max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive sentences joined into `n` sequences of up to `max_length` tokens ([CLS] ... [SEP])."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    ids = np.zeros((n, max_length), np.int32)
    mask = np.zeros((n, max_length), np.int32)
    row, current = 0, [cls]
    for line in lines:
        line = line.strip()
        if not line:
            continue
        current += tokenizer.encode(line, add_special_tokens=False).ids
        if len(current) >= max_length - 1:
            seq = current[:max_length - 1] + [sep]
            ids[row, :len(seq)], mask[row, :len(seq)] = seq, 1
            row, current = row + 1, [cls]
            if row == n:
                break
    if row < n and len(current) > 1:
        seq = current + [sep]
        ids[row, :len(seq)], mask[row, :len(seq)] = seq, 1
        row += 1
    return ids[:row], mask[:row]


def format_table(rows: list[dict]) -> str:
    lines = ["layer head  previous   next    self    peak"]
    for r in rows:
        flag = "  positional" if r["positional"] else ""
        lines.append(f"{r['layer']:>5} {r['head']:>4}  {r['previous']:8.3f} {r['next']:6.3f} {r['self']:7.3f} "
                     f"{r['peak']:7.3f}{flag}")
    return "\n".join(lines)


def main(args: argparse.Namespace, cfg) -> int:
    from norlm.errors import StageError
    from norlm.evaluate.bert_models import load_bert
    from norlm.files import open_text, write_json
    from norlm.layout import layout_of

    lay = layout_of(cfg)
    model_dir = Path(args.model) if args.model else lay.hf_dir
    if args.text:
        text = Path(args.text)
    else:
        shards = lay.corpus_shards()
        if not shards:
            raise StageError(f"no --text given and no shards in {lay.corpus_dir}")
        text = shards[0]
    if not text.is_file():
        raise StageError(f"{text}: no such file")
    bundle = load_bert(model_dir)
    max_length = min(args.max_length, bundle.config.max_position_embeddings)
    with open_text(text) as fh:
        ids, mask = pack_sequences(fh, bundle.tokenizer, args.sequences, max_length)
    if not len(ids):
        raise StageError(f"{text}: no text to measure on", exit_code=1)
    rows = measure(bundle.model, ids, mask)
    uniform = rows[0]["uniform"]
    print(f"{model_dir}: {len(ids)} sequences of {text}, mean {mask.sum(1).mean():.0f} tokens "
          f"(uniform attention = {uniform:.4f})")
    print(format_table(rows))
    positional = sum(r["positional"] for r in rows)
    print(f"positional heads: {positional} of {len(rows)} (previous- or next-token mass >= "
          f"{max(POSITIONAL, 5 * uniform):.3f})" + ("" if positional else
          " -- the encoder still reads its input as a bag of words"))
    if args.json:
        write_json(args.json, {"model": str(model_dir), "text": str(text), "sequences": int(len(ids)),
                               "uniform": uniform, "heads": rows})
    return 0
