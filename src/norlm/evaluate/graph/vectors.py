"""Frozen LM vectors for the graph parser, computed once per split and cached in the work folder.

BERT (ours, an imported Hugging Face folder, or the random-init baseline): the 2021-era
extractor of the sentiment-graph repository -- the space-joined sentence's WordPieces *without*
[CLS]/[SEP], the last hidden layer, each word the mean of its pieces (a sentence longer than the
model's positions is cut into consecutive windows).  ELMo: our ElmoEmbedder, the layer mix of
[evaluate.graph] elmo_layers (the paper's choice for these tasks is unverified).
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from tqdm import tqdm

from norlm.evaluate.graph.features import GraphExample

EXTRACTOR_VERSION = 1
_ELMO: dict = {}


def _bert_vectors(bundle, sentences: list[list[str]], batch_size: int, desc: str) -> list[np.ndarray]:
    import tensorflow as tf

    tok, model = bundle.tokenizer, bundle.model
    limit = int(bundle.config.max_position_embeddings)
    encodings = tok.encode_batch(sentences, is_pretokenized=True, add_special_tokens=False)
    windows = []  # (sentence index, piece ids, word index per piece)
    for si, enc in enumerate(encodings):
        ids, words = list(enc.ids), list(enc.word_ids)
        for start in range(0, max(1, len(ids)), limit):
            windows.append((si, ids[start:start + limit], words[start:start + limit]))

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)],
                 autograph=False)
    def last_layer(ids, mask):
        return model.encode(ids, mask, tf.zeros_like(ids), training=False)[0]

    dim = int(bundle.config.hidden_size)
    sums = [np.zeros((len(s), dim), np.float64) for s in sentences]
    counts = [np.zeros(len(s), np.int64) for s in sentences]
    order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
    for start in tqdm(range(0, len(order), batch_size), desc=desc, leave=False, mininterval=2.0):
        chunk = [windows[i] for i in order[start:start + batch_size]]
        width = max(1, max(len(w[1]) for w in chunk))
        ids = np.zeros((len(chunk), width), np.int32)
        mask = np.zeros((len(chunk), width), np.int32)
        for row, (_si, piece_ids, _words) in enumerate(chunk):
            ids[row, :len(piece_ids)] = piece_ids
            mask[row, :len(piece_ids)] = 1
        out = last_layer(ids, mask).numpy()
        for row, (si, piece_ids, words) in enumerate(chunk):
            for pos, w in enumerate(words):
                if w is not None:
                    sums[si][w] += out[row, pos]
                    counts[si][w] += 1
    return [(s / np.maximum(c, 1)[:, None]).astype(np.float32) for s, c in zip(sums, counts)]


def compute_vectors(spec: dict, sentences: list[list[str]], protocol, run_seed: int, desc: str) -> list[np.ndarray]:
    """[n_words, dim] float32 per sentence from the model of `spec` (kind bert or elmo)."""
    if spec["kind"] == "bert":
        from norlm.evaluate.bert_models import load_bert

        bundle = load_bert(spec["path"], pretrained=spec["pretrained"], seed=run_seed)
        return _bert_vectors(bundle, sentences, protocol.embed_batch_size, desc)
    from norlm.elmo.embed import ElmoEmbedder
    from norlm.evaluate.elmo_probe import embed_records

    key = (str(Path(spec["path"]).resolve()), protocol.embed_batch_size)
    if key not in _ELMO:  # one embedder for the three splits
        _ELMO.clear()
        _ELMO[key] = ElmoEmbedder(spec["path"], batch_size=protocol.embed_batch_size)
    embedder = _ELMO[key]
    records = [SimpleNamespace(words=s) for s in sentences]
    return embed_records(embedder, records, protocol.elmo_layers, protocol.embed_batch_size, desc)


def extraction_facts(spec: dict, protocol) -> dict:
    if spec["kind"] == "bert":
        return {"lm_vectors": "BERT last layer, sentence without [CLS]/[SEP], word = mean of its WordPieces",
                "pretrained": spec["pretrained"]}
    if spec["kind"] == "elmo":
        return {"lm_vectors": f"ELMo (ElmoEmbedder), layers: {protocol.elmo_layers}"}
    return {"lm_vectors": "none (no-LM parser)"}


def cache_key(spec: dict, digest: dict, examples: list[GraphExample], protocol, run_seed: int) -> str:
    h = hashlib.sha256()
    h.update(repr((EXTRACTOR_VERSION, spec["kind"], spec["pretrained"], sorted(digest.items()),
                   protocol.elmo_layers if spec["kind"] == "elmo" else "", run_seed if not spec["pretrained"] else 0))
             .encode())
    for ex in examples:
        h.update(f"{ex.sent_id}\t{ex.text}\n".encode("utf-8"))
    return h.hexdigest()[:16]


def attach_vectors(examples: list[GraphExample], spec: dict, digest: dict, cache_dir: Path, protocol, run_seed: int,
                   desc: str) -> tuple[float, bool]:
    """Set `ex.lm` for every example, from the cache or computed and cached; (seconds, from_cache)."""
    t0 = time.perf_counter()
    path = Path(cache_dir) / f"{spec['name']}-{cache_key(spec, digest, examples, protocol, run_seed)}.npz"
    cached = path.is_file()
    if cached:
        with np.load(path) as z:
            flat, lengths = z["vectors"], z["lengths"]
    else:
        vectors = compute_vectors(spec, [ex.forms for ex in examples], protocol, run_seed, desc)
        lengths = np.asarray([len(v) for v in vectors], np.int64)
        flat = np.concatenate(vectors).astype(np.float32)
        from norlm.files import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, vectors=flat, lengths=lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for i, ex in enumerate(examples):
        if lengths[i] != len(ex):
            from norlm.errors import StageFailure

            raise StageFailure(f"{path}: sentence {ex.sent_id} has {lengths[i]} vectors for {len(ex)} words")
        ex.lm = flat[offsets[i]:offsets[i + 1]]
    return round(time.perf_counter() - t0, 3), cached
