"""BERT's cased tokenizer for any WordPiece vocab.txt, as a Hugging Face `tokenizers.Tokenizer`.

This is the one tokenizer every NorLM stage uses (pretraining data, export, evaluation), so that
ids agree with what the original TensorFlow BERT code would produce:

* normalizer: drop NUL, U+FFFD and control characters, map whitespace to a space, put spaces
  around CJK ideographs; no lower-casing, no accent stripping, no Unicode normalisation;
* pre-tokenizer: split on whitespace and split off every punctuation character;
* model: greedy longest-match-first WordPiece with ``##`` continuations, a word of more than 100
  characters or with an unmatchable span becomes one ``[UNK]``;
* post-processor: ``[CLS] A [SEP]`` and ``[CLS] A [SEP] B [SEP]`` with type ids 0/1;
* decoder: WordPiece (joins ``##`` pieces).

Duplicate lines: BERT's loader keeps the *last* occurrence of a token (see `vocab_file`).  We give
that id to the token, and give each shadowed earlier line a placeholder token
``[norlm-shadowed-<line>]`` that the pre-tokenizer can never produce, so the vocabulary size
still equals the number of lines (= the embedding matrix rows) and no id is left without a token.
The five specials are registered as special tokens, as HF's BERT tokenizers do, so that a literal
``[MASK]`` in input text maps to the mask id (the original TF tokenizer would split it up).

Two known differences from Google's Python code, both in `tokenizers`' BertNormalizer and both
outside Norwegian text: private-use characters (category Co) are removed rather than kept, and CJK
Extension-E ideographs U+2B820..U+2B91F are not isolated.  tests/vocab pin both.
"""
from __future__ import annotations

import os
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from norlm.vocab.vocab_file import SPECIALS, read_vocab

MAX_CHARS_PER_WORD = 100
UNK = "[UNK]"


def bert_normalizer() -> normalizers.Normalizer:
    """BERT's text cleaning for a cased model."""
    return normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False,
                                      lowercase=False)


def wordpiece_vocab(vocab_txt: str | os.PathLike) -> dict[str, int]:
    """token -> id as BERT's TF loader assigns them, plus placeholders for shadowed lines."""
    vf = read_vocab(vocab_txt)
    vocab = dict(vf.ids)
    for index in vf.shadowed:
        vocab[f"[norlm-shadowed-{index}]"] = index
    return vocab


def build_tokenizer(vocab_txt: str | os.PathLike) -> Tokenizer:
    """The cased BERT tokenizer for WordPiece file `vocab_txt` (ids identical to BERT's TF code)."""
    vocab = wordpiece_vocab(vocab_txt)
    for needed in (UNK, "[CLS]", "[SEP]"):
        if needed not in vocab:
            raise ValueError(f"{vocab_txt}: no {needed} entry; not a BERT WordPiece vocabulary")
    tok = Tokenizer(models.WordPiece(vocab, unk_token=UNK, continuing_subword_prefix="##",
                                     max_input_chars_per_word=MAX_CHARS_PER_WORD))
    tok.normalizer = bert_normalizer()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens([s for s in SPECIALS if s in vocab])
    return tok


def load_tokenizer(path: str | os.PathLike) -> Tokenizer:
    """Read a `tokenizer.json` (the file itself, or a folder that holds one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no tokenizer.json here")
    return Tokenizer.from_file(str(path))
