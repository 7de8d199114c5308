"""Parser inputs: vocabularies, per-sentence id arrays and padded batches.

Every sentence gets a ROOT node at position 0 (ids <BOS>, zero LM vector), so the parser's
(n+1) x (n+1) label matrix has heads in rows and dependents in columns, ROOT row and column
included.  Ids 0-3 are the reference parser's specials <UNK> <PAD> <BOS> <EOS>; id 4 is the
learned <DROP> row of the embedding dropout.  Label id 0 is the empty cell (no arc).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

SPECIALS = ("<UNK>", "<PAD>", "<BOS>", "<EOS>", "<DROP>")
UNK, PAD, BOS, EOS, DROP = range(5)
CHAR_PAD, CHAR_UNK, CHAR_ROOT = 0, 1, 2
MAX_CHARS = 30  # longer words keep their first 30 characters
_DIGITS = re.compile(r"[0-9]+")


def norm(form: str) -> str:
    """The word feature: lower-cased, digit runs replaced by NUM."""
    return _DIGITS.sub("NUM", form.lower())


@dataclass
class GraphExample:
    """One sentence: tokens, substitute lemmas/POS, gold arcs, and (optionally) frozen LM vectors."""

    sent_id: str
    text: str
    forms: list[str]
    lemmas: list[str]
    pos: list[str]
    arcs: list[list[tuple[int, str]]]
    source: object = None  # the data.Sentence it came from
    lm: np.ndarray | None = None  # [n, dim] float32
    inputs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.forms)


class Vocab:
    """Strings -> ids after the specials; strings seen fewer than `min_count` times map to <UNK>."""

    def __init__(self, counts: Counter, min_count: int = 0, specials: tuple[str, ...] = SPECIALS):
        self.items = list(specials) + sorted(s for s, c in counts.items() if c >= max(1, min_count)
                                              and s not in specials)
        self.index = {s: i for i, s in enumerate(self.items)}

    def __len__(self) -> int:
        return len(self.items)

    def ids(self, strings: list[str], unk: int = UNK) -> list[int]:
        return [self.index.get(s, unk) for s in strings]


@dataclass
class Vocabs:
    words: Vocab
    lemmas: Vocab
    pos: Vocab
    chars: Vocab
    labels: list[str]  # index 0 = no arc

    def sizes(self) -> dict[str, int]:
        return {"words": len(self.words), "lemmas": len(self.lemmas), "pos": len(self.pos),
                "chars": len(self.chars), "labels": len(self.labels)}


def build_vocabs(train: list[GraphExample], dev: list[GraphExample], min_count: int) -> Vocabs:
    """Vocabularies from train (labels from train and dev, so a dev-only label is still scorable)."""
    words = Counter(norm(f) for ex in train for f in ex.forms)
    lemmas = Counter(lem for ex in train for lem in ex.lemmas)
    pos = Counter(p for ex in train for p in ex.pos)
    chars = Counter(ch for ex in train for f in ex.forms for ch in f)
    labels = sorted({lab for ex in train + dev for entries in ex.arcs for _, lab in entries})
    return Vocabs(Vocab(words, min_count), Vocab(lemmas, min_count), Vocab(pos),
                  Vocab(chars, 0, specials=("<cpad>", "<cunk>", "<croot>")), ["<none>"] + labels)


def gold_matrix(ex: GraphExample, label_ids: dict[str, int]) -> np.ndarray:
    """[n+1, n+1] label ids, M[head, dependent]; a later arc into the same cell wins (as decoding reads it)."""
    n = len(ex)
    m = np.zeros((n + 1, n + 1), np.int32)
    for dep, entries in enumerate(ex.arcs, 1):
        for head, label in entries:
            m[head, dep] = label_ids.get(label, 0)
    return m


def featurise(ex: GraphExample, v: Vocabs) -> dict:
    """Id arrays of one sentence, ROOT first."""
    label_ids = {lab: i for i, lab in enumerate(v.labels)}
    chars = np.zeros((len(ex) + 1, MAX_CHARS), np.int32)
    chars[0, 0] = CHAR_ROOT
    for i, form in enumerate(ex.forms, 1):
        ids = v.chars.ids(list(form[:MAX_CHARS]), unk=CHAR_UNK)
        chars[i, :len(ids)] = ids
    return {"words": np.asarray([BOS] + v.words.ids([norm(f) for f in ex.forms]), np.int32),
            "lemmas": np.asarray([BOS] + v.lemmas.ids(ex.lemmas), np.int32),
            "pos": np.asarray([BOS] + v.pos.ids(ex.pos), np.int32),
            "chars": chars, "labels": gold_matrix(ex, label_ids)}


def collate(examples: list[GraphExample], lm_dim: int = 0) -> dict:
    """Pad a batch to its longest sentence (+ ROOT); char width to the longest word."""
    b = len(examples)
    t = max(len(ex) for ex in examples) + 1
    c = max(1, max(int((ex.inputs["chars"] > 0).sum(1).max()) for ex in examples))
    batch = {k: np.full((b, t), PAD, np.int32) for k in ("words", "lemmas", "pos")}
    batch["chars"] = np.zeros((b, t, c), np.int32)
    batch["mask"] = np.zeros((b, t), np.float32)
    batch["labels"] = np.zeros((b, t, t), np.int32)
    if lm_dim:
        batch["lm"] = np.zeros((b, t, lm_dim), np.float32)
    for i, ex in enumerate(examples):
        n = len(ex) + 1
        for k in ("words", "lemmas", "pos"):
            batch[k][i, :n] = ex.inputs[k]
        batch["chars"][i, :n] = ex.inputs["chars"][:, :c]
        batch["mask"][i, :n] = 1.0
        batch["labels"][i, :n, :n] = ex.inputs["labels"]
        if lm_dim:
            batch["lm"][i, 1:n] = ex.lm
    return batch


def matrix_to_arcs(m: np.ndarray, labels: list[str]) -> list[list[tuple[int, str]]]:
    """Predicted [n+1, n+1] label ids -> incoming arcs per token (heads ascending)."""
    n = m.shape[0] - 1
    return [[(h, labels[m[h, d]]) for h in range(n + 1) if m[h, d] > 0] for d in range(1, n + 1)]


def labelled_f1(gold: list[np.ndarray], pred: list[np.ndarray]) -> dict:
    """The parser's dev score: labelled (and unlabelled) arc P/R/F over every cell, ROOT row included."""
    tp = ut = n_pred = n_gold = 0
    for g, p in zip(gold, pred):
        tp += int(((g == p) & (g > 0)).sum())
        ut += int(((g > 0) & (p > 0)).sum())
        n_pred += int((p > 0).sum())
        n_gold += int((g > 0).sum())

    def f(hit: int) -> float:
        prec, rec = hit / n_pred if n_pred else 0.0, hit / n_gold if n_gold else 0.0
        return 2 * prec * rec / (prec + rec) if prec + rec else 0.0

    return {"score": f(tp), "lf1": f(tp), "uf1": f(ut), "gold_arcs": n_gold, "pred_arcs": n_pred}
