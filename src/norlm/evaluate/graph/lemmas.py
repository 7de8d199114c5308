"""Lemma and UPOS substitutes for NoReC tokens: a form -> lemma (-> UPOS) lookup.

The parser reads lemmas (and, in the no-LM negation baseline, UPOS), but the NoReC train split's
lemmas and tags are not bundled (graph-tasks spec 2.3).  The substitute: the most frequent lemma
of the exact form in the bundled NDT files (Bokmål first, then Nynorsk) and UD 2.7 dev/test, else
that of the lower-cased form, else the lower-cased form itself; UPOS likewise from UD 2.7 only,
else `X`.  The table is derived from NDT, so it is built into the work folder at run time and
never committed.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from norlm import conll
from norlm.files import atomic_open, open_text

SOURCE_TEXT = ("form->lemma lookup from the bundled NDT (nob, then nno) and UD 2.7 dev/test lemmas: most frequent "
               "lemma of the exact form, else of the lower-cased form, else the lower-cased form")


@dataclass
class Lookup:
    """form -> lemma and form -> UPOS tables with the fallbacks of the module docstring."""

    lemma: dict[str, str] = field(default_factory=dict)
    upos: dict[str, str] = field(default_factory=dict)
    files: int = 0

    def lemma_of(self, form: str) -> str:
        return self.lemma.get(form) or self.lemma.get(form.lower()) or form.lower()

    def upos_of(self, form: str) -> str:
        return self.upos.get(form) or self.upos.get(form.lower()) or "X"

    def coverage(self, forms: list[str]) -> float:
        """Share of tokens whose lemma came from the table (not the lower-cased fallback)."""
        if not forms:
            return 0.0
        return sum(f in self.lemma or f.lower() in self.lemma for f in forms) / len(forms)


def _rows(path: Path, is_ud: bool) -> list[tuple[str, str, str]]:
    """(form, lemma, tag) of every word (not multi-word "1-2" or empty "1.1" lines) of one file."""
    rows = []
    for sentence in conll.read_sentences(path, "conllu" if is_ud else "conllx", require=False):
        rows += zip(sentence.column("form"), sentence.column("lemma"), sentence.column("upos" if is_ud else "cpostag"))
    return rows


def _sources(data_dir: Path) -> list[tuple[Path, bool]]:
    """(file, is_ud) in priority order: NDT nob, NDT nno, UD nob dev/test, UD nno dev/test."""
    out = []
    for lang in ("nob", "nno"):
        out += [(p, False) for p in sorted((data_dir / "norne" / "ndt" / lang).glob("*.conll*"))]
    for folder in ("UD_Norwegian-Bokmaal", "UD_Norwegian-Nynorsk"):
        out += [(p, True) for p in sorted((data_dir / "ud27" / folder).glob("*-ud-*.conllu*"))]
    return out


def build_lookup(data_dir: str | Path) -> Lookup:
    """Count (form, lemma) and (form, UPOS) pairs over the sources; earlier sources win ties."""
    lemma_counts: dict[str, Counter] = defaultdict(Counter)
    upos_counts: dict[str, Counter] = defaultdict(Counter)
    first_seen: dict[tuple[str, str], int] = {}
    sources = _sources(Path(data_dir))
    for rank, (path, is_ud) in enumerate(sources):
        for form, lemma, tag in _rows(path, is_ud):
            lower = form.lower()
            for key in (form, lower) if lower != form else (form,):
                lemma_counts[key][lemma] += 1
                if (key, lemma) not in first_seen:
                    first_seen[key, lemma] = rank
                if is_ud:
                    upos_counts[key][tag] += 1

    def best(counter: Counter, key: str) -> str:
        return min(counter, key=lambda v: (-counter[v], first_seen.get((key, v), 0), v))

    return Lookup({k: best(c, k) for k, c in lemma_counts.items()},
                  {k: min(c, key=lambda v: (-c[v], v)) for k, c in upos_counts.items()}, len(sources))


_BUILT: dict[str, Lookup] = {}  # one build per data folder and process


def load_lookup(data_dir: str | Path, cache: Path) -> Lookup:
    """The lookup from `cache` (a gzip TSV in the work folder), building it there first if needed."""
    if not cache.is_file():
        key = str(Path(data_dir).resolve())
        if key not in _BUILT:
            _BUILT[key] = build_lookup(data_dir)
        lookup = _BUILT[key]
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(cache) as fh:
            fh.write(f"#files\t{lookup.files}\n")
            for form in sorted(set(lookup.lemma) | set(lookup.upos)):
                fh.write(f"{form}\t{lookup.lemma.get(form, '')}\t{lookup.upos.get(form, '')}\n")
        return lookup
    lookup = Lookup()
    with open_text(cache) as fh:
        for line in fh:
            form, lemma, upos = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            if form == "#files":
                lookup.files = int(lemma)
                continue
            if lemma:
                lookup.lemma[form] = lemma
            if upos:
                lookup.upos[form] = upos
    return lookup
