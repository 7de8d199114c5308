"""Decoding, clean-up, detokenisation, filters and the Punkt segmenter."""
from __future__ import annotations

import pytest

from norlm.corpus.filters import drop_reason
from norlm.corpus.segment import make_segmenter
from norlm.corpus.settings import FilterConfig
from norlm.corpus.text import DecodeError, clean, decode, detokenize


def test_decode_strict_and_auto_fallback():
    assert decode("blåbær".encode(), "utf-8") == ("blåbær", False)
    assert decode("blåbær €".encode("iso-8859-15"), "auto") == ("blåbær €", True)
    with pytest.raises(DecodeError, match="invalid utf-8 at byte 2"):
        decode(b"bl\xe5b\xe6r", "utf-8")


def test_clean_nfc_controls_and_whitespace():
    decomposed = "bla\u030aba\u0308r"  # å and ä as base letter + combining mark
    assert clean(f"  {decomposed}\t\x07og\u200b\u00a0 mer \r\n") == "blåbär og mer"


@pytest.mark.parametrize("tokens, text", [
    ("Han kom 29 . desember , sa han .", "Han kom 29. desember, sa han."),
    ('Hun sa " hei " og ( kanskje ) « ja » !', 'Hun sa "hei" og (kanskje) «ja»!'),
    ("Hva ? Nei ... 50 % ; ok :", "Hva? Nei... 50%; ok:"),
])
def test_detokenize(tokens, text):
    assert detokenize(tokens.split()) == text


@pytest.mark.parametrize("sentence, reason", [
    ("Ja", "too-short"),
    ("x" * 2001, "too-long"),
    ("12 345 678 , 9 .", "non-letters"),
    ("Москва является столицей России.", "wrong-script"),
    ("Ukraina (ukrainsk Україна) er et land i Europa.", None),
    ("Dette er en vanlig norsk setning.", None),
])
def test_filters(sentence, reason):
    assert drop_reason(sentence, FilterConfig()) == reason


def test_punkt_keeps_norwegian_abbreviations():
    seg = make_segmenter("punkt", "nb")
    assert seg.split(["Han kom kl. 10 i går, f.eks. med buss nr. 5. Det var bra!", "Ny paragraf her."]) == [
        "Han kom kl. 10 i går, f.eks. med buss nr. 5.", "Det var bra!", "Ny paragraf her."]
