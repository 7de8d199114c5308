"""The lemma / UPOS substitute: NDT + UD lookup with its fallbacks, cached in the work folder."""
from __future__ import annotations

import gzip
from pathlib import Path

from norlm.evaluate.graph.lemmas import build_lookup, load_lookup
from tests.conftest import DATA


def _write(path: Path, rows: list[tuple[str, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i, (form, lemma, pos) in enumerate(rows, 1):
            fh.write(f"{i}\t{form}\t{lemma}\t{pos}\t{pos}\t_\t0\troot\t_\t_\n")
        fh.write("\n")


def _tiny_data(root: Path) -> Path:
    _write(root / "norne/ndt/nob/a.conll.gz", [("Boka", "bok", "subst"), ("boka", "bok", "subst"),
                                               ("var", "være", "verb"), ("var", "var", "subst")])
    _write(root / "norne/ndt/nno/b.conll.gz", [("boka", "boke", "subst"), ("eg", "eg", "pron")])
    _write(root / "ud27/UD_Norwegian-Bokmaal/no_bokmaal-ud-dev.conllu.gz", [("var", "være", "AUX"),
                                                                           ("Boka", "bok", "NOUN")])
    return root


def test_lookup_priorities_and_fallbacks(tmp_path):
    lk = build_lookup(_tiny_data(tmp_path))
    assert lk.files == 3
    assert lk.lemma_of("Boka") == "bok"  # exact form
    assert lk.lemma_of("BOKA") == "bok"  # via the lower-cased form (bok 3x, boke 1x)
    assert lk.lemma_of("var") == "være"  # most frequent (2 of 3)
    assert lk.lemma_of("eg") == "eg" and lk.lemma_of("Ukjent") == "ukjent"  # nno entry; lower-cased fallback
    assert lk.upos_of("var") == "AUX" and lk.upos_of("eg") == "X"  # UPOS from UD only
    assert abs(lk.coverage(["Boka", "eg", "Ukjent", "zz"]) - 0.5) < 1e-12


def test_lookup_cache_round_trip(tmp_path):
    data = _tiny_data(tmp_path / "data")
    cache = tmp_path / "work" / "eval" / "graph_lemmas.tsv.gz"
    first = load_lookup(data, cache)
    assert cache.is_file()
    again = load_lookup(tmp_path / "nothing-here", cache)  # read from the cache, not rebuilt
    assert again.lemma == first.lemma and again.upos == first.upos and again.files == first.files == 3


def test_bundled_ndt_lookup_gives_real_lemmas():
    lk = build_lookup(DATA)
    assert lk.files > 400  # 431 NDT files + 4 UD files
    assert lk.lemma_of("bryllupsmenyen") == "bryllupsmeny"
    assert lk.lemma_of("Filmen") == "film"
    assert lk.lemma_of("ikke") == "ikke" and lk.upos_of("ikke") in ("PART", "ADV")
