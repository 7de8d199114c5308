"""Training the learned part of the vocabulary with HF `tokenizers`, and laying out vocab.txt.

Two methods, both trained on text cleaned and pre-split exactly as BERT's basic tokenizer does it
(so every learned entry can be produced at inference time):

* ``spbpe`` — NorBERT's method (bert-recipe §3.5): SentencePiece-style BPE, every word marked with
  a leading ``▁``; then converted with NorBERT's rules: a piece starting with ``▁`` loses the
  marker (word-initial entry), any other piece gets ``##`` (continuation).  Unlike NorBERT we do not
  feed newlines and do not NFKC-normalise, which is what made its file defective.
* ``wordpiece`` — HF's `WordPieceTrainer` directly.

Determinism: the trainers break ties between equally frequent merges by symbol id, and symbol ids
come from hash-map order unless every initial symbol is known in advance.  We therefore choose the
alphabet ourselves (sorted, from a counting pass) and, for WordPiece, pre-register the ``##c``
continuation characters, so the same corpus always gives the same vocabulary.
"""
from __future__ import annotations

import sys
from typing import Iterable

from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from norlm.vocab.quality import unreachable_reason
from norlm.vocab.tokenizer import bert_normalizer

METHODS = ("spbpe", "wordpiece")
SHOW_PROGRESS = sys.stderr.isatty()  # the trainers' own progress bars, only for a person watching
MARKER = "▁"  # SentencePiece's word-boundary marker (U+2581)


def special_block(unused: int) -> list[str]:
    """[PAD]=0, [unused0..N-1]=1..N, [UNK] [CLS] [SEP] [MASK]=N+1..N+4."""
    return ["[PAD]", *(f"[unused{i}]" for i in range(unused)), "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _train(method: str, lines: Iterable[str], alphabet: list[str], vocab_size: int, min_frequency: int,
           length: int | None) -> list[str]:
    """Train and return the model's pieces in id order (alphabet first, then merges)."""
    if method == "spbpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.BertPreTokenizer(),
            pre_tokenizers.Metaspace(replacement=MARKER, prepend_scheme="always", split=False)])
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[],
                                      limit_alphabet=len(alphabet) + 1, initial_alphabet=alphabet,
                                      show_progress=SHOW_PROGRESS)
    elif method == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                            special_tokens=["##" + c for c in alphabet],
                                            limit_alphabet=len(alphabet), initial_alphabet=alphabet,
                                            continuing_subword_prefix="##", show_progress=SHOW_PROGRESS)
    else:
        raise ValueError(f"unknown vocab method {method!r} (choose one of {', '.join(METHODS)})")
    tok.normalizer = bert_normalizer()
    tok.train_from_iterator(lines, trainer, length=length)
    return [piece for piece, _ in sorted(tok.get_vocab().items(), key=lambda item: item[1])]


def to_wordpiece(method: str, pieces: list[str]) -> list[str]:
    """Trained pieces -> WordPiece entries (NorBERT's sent2wordpiece rules for spbpe)."""
    if method != "spbpe":
        return list(pieces)
    out = []
    for piece in pieces:
        entry = piece[len(MARKER):] if piece.startswith(MARKER) else "##" + piece
        if entry.strip() and entry != "##":
            out.append(entry)
    return out


def learn_entries(method: str, lines: Iterable[str], alphabet: list[str], n_learned: int, min_frequency: int,
                  length: int | None = None) -> tuple[list[str], dict[str, int]]:
    """Learned WordPiece entries (before the size cut) and how many conversion dropped, by reason."""
    # alphabet entries take up to 2 slots per character; the margin lets the size cut take only merges
    target = n_learned + len(alphabet) + max(50, n_learned // 50)
    pieces = _train(method, lines, alphabet, target, min_frequency, length)
    converted = to_wordpiece(method, pieces)
    dropped = {"empty after conversion": len(pieces) - len(converted)}
    entries, seen = [], set()
    for entry in converted:
        reason = unreachable_reason(entry)
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
        elif entry in seen:
            dropped["duplicate"] = dropped.get("duplicate", 0) + 1
        else:
            seen.add(entry)
            entries.append(entry)
    return entries, {k: v for k, v in dropped.items() if v}


def assemble(entries: list[str], alphabet: list[str], size: int, unused: int) -> list[str]:
    """vocab.txt in id order: specials, every alphabet character (word-initial and ## where it can
    occur), then learned entries in training order, cut to `size` lines."""
    specials = special_block(unused)
    singles = []
    for ch in alphabet:
        for entry in (ch, "##" + ch):
            if unreachable_reason(entry) is None:
                singles.append(entry)
    if len(specials) + len(singles) > size:
        raise ValueError(f"vocab.size={size} is too small: the specials, {unused} [unused] slots and the "
                         f"{len(alphabet)}-character alphabet already need {len(specials) + len(singles)} "
                         "entries (raise vocab.size or lower vocab.limit_alphabet / character_coverage)")
    chosen = specials + singles
    seen = set(chosen)
    for entry in entries:
        if len(chosen) >= size:
            break
        if entry not in seen:
            seen.add(entry)
            chosen.append(entry)
    return chosen
