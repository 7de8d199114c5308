"""BERT as frozen features, probed exactly like ELMo: the last layer's vectors, a word's vector the
mean of its pieces, under the same feed-forward tagger (POS, NER) and BiLSTM (sentiment).

Fine-tuning can hide what pretraining put into the weights (a random-init BERT fine-tuned on the
task learns word-to-tag mappings directly); a frozen probe cannot, so the pretrained BERT and its
random-init twin under it show what the encoder itself holds.  `BertWordEmbedder.embed` has the
signature of ElmoEmbedder.embed, so norlm.evaluate.elmo_probe featurises and trains unchanged.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

PROTOCOL = "frozen last layer, word = mean of its pieces"


class BertWordEmbedder:
    """Word vectors [B, n_words, hidden] from a BERT folder (pretrained, or its random-init twin)."""

    def __init__(self, hf_dir: str | Path, pretrained: bool, seed: int, max_length: int = 256):
        import tensorflow as tf

        from norlm.evaluate.bert_models import load_bert

        self.bundle = load_bert(hf_dir, pretrained=pretrained, seed=seed)
        self.max_length = min(max_length, self.bundle.config.max_position_embeddings)
        self.sep = self.bundle.tokenizer.token_to_id("[SEP]")
        model = self.bundle.model
        spec = tf.TensorSpec([None, None], tf.int32)

        @tf.function(input_signature=[spec, spec])
        def last_layer(ids, mask):
            return model.encode(ids, mask, tf.zeros_like(ids))[0]

        self._last_layer = last_layer

    def pieces(self, sentences: list[list[str]]) -> tuple[list[list[int]], list[list[int | None]]]:
        """Sub-word ids with [CLS]/[SEP] and each piece's word index, cut to max_length."""
        encodings = self.bundle.tokenizer.encode_batch(sentences, is_pretokenized=True)
        ids, words = [], []
        for enc in encodings:
            i, w = list(enc.ids), list(enc.word_ids)
            if len(i) > self.max_length:
                i, w = i[:self.max_length - 1] + [self.sep], w[:self.max_length - 1] + [None]
            ids.append(i)
            words.append(w)
        return ids, words

    def embed(self, sentences: list[list[str]], layers: str = "top") -> np.ndarray:
        """Mean of each word's last-layer piece vectors (zeros for words cut by max_length).
        `layers` is accepted for ElmoEmbedder compatibility; the probe always reads the last layer."""
        ids, words = self.pieces(sentences)
        n, width = len(ids), -(-max(len(i) for i in ids) // 8) * 8
        batch_ids = np.zeros((n, width), np.int32)
        mask = np.zeros((n, width), np.int32)
        for r, seq in enumerate(ids):
            batch_ids[r, :len(seq)], mask[r, :len(seq)] = seq, 1
        hidden = self._last_layer(batch_ids, mask).numpy()
        n_words = max(len(s) for s in sentences)
        out = np.zeros((n, n_words, hidden.shape[-1]), np.float32)
        for r, word_ids in enumerate(words):
            pos = [p for p, w in enumerate(word_ids) if w is not None]
            idx = np.asarray([word_ids[p] for p in pos], np.int64)
            if not len(idx):
                continue
            np.add.at(out[r], idx, hidden[r, pos])
            counts = np.bincount(idx, minlength=n_words)[:, None]
            out[r] /= np.maximum(counts, 1)
        return out
