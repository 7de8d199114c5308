"""Config section [vocab]: WordPiece vocabulary training."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class VocabConfig:
    """How `norlm vocab` trains the cased WordPiece vocabulary.

    `size` counts every line of vocab.txt: [PAD], the [unused] slots, [UNK] [CLS] [SEP] [MASK] and
    the learned entries (so it is the BERT embedding-matrix height).  NorBERT-1 trained a 30,000-piece
    SentencePiece-BPE model and converted it, which gave ~30,100 entries (32,922 lines with defects).
    """

    method: Literal["spbpe", "wordpiece"] = "spbpe"  # spbpe (NorBERT's SentencePiece-BPE, converted) | wordpiece (HF WordPieceTrainer)
    size: int = 30000  # total entries in vocab.txt
    unused: int = 100  # [unused0] ... [unused<N-1>] at ids 1..N
    min_frequency: int = 2  # a merge must occur at least this often
    limit_alphabet: int = 1000  # at most this many distinct characters (HF default, as NorBERT)
    character_coverage: float = 1.0  # keep the most frequent characters covering this share of all characters
    # characters always in the alphabet (counted in limit_alphabet), seen in the corpus or not
    always_include: str = ("!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                           "abcdefghijklmnopqrstuvwxyz{|}~ÆØÅæøåÉéÈèÊêÓóÒòÔôÜüÄäÖö«»–—‘’“”§°")
    # train on a uniform seeded sample of N non-blank corpus lines across all shards and sources
    # (0 = all); bounds the trainer's memory by the sample, not the corpus (see vocab/corpus_reader.py)
    max_lines: int = 0
    eval_glob: str = "ud27/UD_Norwegian-*/*-test.conllu.gz"  # report text, under run.data_dir
    reference_vocab: str = "norbert_vocab/norwegian_wordpiece_vocab_30k.txt"  # compared in the report ("" = none)

    def __post_init__(self):
        if not 0.0 < self.character_coverage <= 1.0:
            raise ValueError(f"key 'character_coverage' must be in (0, 1], got {self.character_coverage}")
