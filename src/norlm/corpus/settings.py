"""Config section [corpus]: which raw sources to read and how to clean, dedup and segment them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceConfig:
    """One input source; `kind` selects the reader."""

    name: str = ""
    kind: str = "plain"  # wikipedia | nak-tokens | nak-text | nak-xml | plain | ndt
    paths: tuple[str, ...] = ()
    lang: str = "nb"  # nb (Bokmål) | nn (Nynorsk)
    split: str = ""  # ndt only: keep files of this NorNE/UD split (train/dev/test), "" = all


@dataclass(frozen=True)
class CorpusConfig:
    sources: tuple[SourceConfig, ...] = ()
    segmenter: str = "punkt"  # punkt | stanza
