"""Config section [corpus]: which raw sources to read and how to clean, dedup and segment them.

Every field has a default fit for the bundled demo data; a config file sets only what differs.
Sources are `[[corpus.sources]]` tables, processed (and deduplicated) in the order given: a
sentence already seen in an earlier source is dropped from a later one.
"""
from __future__ import annotations

from typing import Literal
from dataclasses import dataclass, field

KINDS = ("wikipedia", "nak-tokens", "nak-text", "nak-xml", "plain", "ndt")


@dataclass(frozen=True)
class SourceConfig:
    """One input source; `kind` selects the reader, `name` prefixes its shards."""

    name: str = ""
    kind: Literal["wikipedia", "nak-tokens", "nak-text", "nak-xml", "plain", "ndt"] = "plain"  # wikipedia | nak-tokens | nak-text | nak-xml | plain | ndt
    paths: tuple[str, ...] = ()  # files, directories or glob patterns (relative to the cwd or the repo)
    lang: Literal["nb", "nn"] = "nb"  # nb (Bokmål) | nn (Nynorsk): picks the segmenter model
    split: str = ""  # ndt only: keep files of this NorNE/UD split (train/dev/test), "" = all
    split_file: str = "data/norne/norne_ndt_split.tsv"  # ndt only: lang, file, split, group table
    encoding: str = ""  # "" = the reader's default (utf-8, or auto for NAK); auto = utf-8 else fallback
    docs: Literal["line", "blank"] = "line"  # plain only: "line" (one document per line) or "blank" (blank-line separated)
    detokenize: bool = False  # plain only: input is space-tokenised ("ord , ord .") -> normal spacing
    segment: bool = True  # run the sentence segmenter (False: input lines already are sentences)


@dataclass(frozen=True)
class FilterConfig:
    """Sentence filters; every drop is counted under its reason in stats.json."""

    min_chars: int = 3  # too-short below this (NorBERT kept sentences longer than 2 characters)
    max_chars: int = 2000  # too-long above this
    min_letter_ratio: float = 0.5  # non-letters: letters / non-space characters below this
    min_latin_ratio: float = 0.5  # wrong-script: Latin letters / letters below this (foreign names pass)


@dataclass(frozen=True)
class CorpusConfig:
    sources: tuple[SourceConfig, ...] = ()
    segmenter: Literal["punkt", "stanza"] = "punkt"  # punkt (offline) | stanza (cluster; models in STANZA_RESOURCES_DIR)
    stanza_batch_size: int = 256  # tokenize_batch_size of the Stanza pipeline
    filters: FilterConfig = field(default_factory=FilterConfig)
    dedup: bool = True  # exact dedup of sentences with >= dedup_min_tokens words, across sources
    dedup_min_tokens: int = 5
    dedup_max_entries: int = 1_000_000  # keys per dedup bucket (bounds memory: ~50 MB per worker in step 2)
    near_dedup: bool = False  # MinHash-LSH near-duplicate document removal
    minhash_bands: int = 16
    minhash_rows: int = 8  # bands x rows permutations; threshold ~ (1/bands)^(1/rows) = 0.71
    minhash_shingle: int = 5  # word n-gram size
    wiki_min_chars: int = 200  # article stubs below this many characters are dropped (gensim's -m)
    max_line_bytes: int = 1_000_000  # longer input lines are skipped (file + line reported)
    shard_mb: float = 64.0  # uncompressed size bound of one output shard
    unit_mb: float = 64.0  # a multistream .bz2 Wikipedia dump larger than this (MB, compressed) is read as several units

    def __post_init__(self):
        if not self.unit_mb > 0:
            raise ValueError(f"key 'unit_mb' must be greater than 0, got {self.unit_mb}")
