"""The statistical model behind bench/synth_corpus.py, fitted on the bundled Wikipedia samples.

What is fitted (data/wikipedia_sample/wikipedia_100k, Bokmål + Nynorsk, 200k tokens):
  * word unigram frequencies (the head of the vocabulary), comma rate, end-punctuation shares;
  * sentence lengths (words) and document lengths (sentences), resampled as observed;
  * Heaps' law V(N) = K N^beta of the type/token curve.  The bundled text is too small to reach
    the paper's 2 billion words, so 15 % of the words are drawn from an unbounded Zipf tail with
    exponent 1/beta (whose number of distinct values grows as N^beta): ranks past the bundled
    vocabulary become Norwegian-looking compounds (a bundled word + one or two syllables), so
    vocabulary training and ELMo counting meet realistic, ever-growing numbers of types.

Every sentence is drawn word by word (first word capitalised, last word alphabetic and at least
four letters long, so a sentence segmenter finds every boundary), hence two sentences of five words
or more are equal only where a duplicate was injected on purpose.  Text is generated as numpy
arrays of "pieces" (words, syllables, separators) and rendered to bytes with one gather.
"""
from __future__ import annotations

import gzip
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SAMPLES = [REPO / "data/wikipedia_sample/wikipedia_100k/wiki_no.txt.gz",
           REPO / "data/wikipedia_sample/wikipedia_100k/wiki_nn.txt.gz"]
TAIL_SHARE = 0.15
SYLLABLES = ("berg", "dal", "heim", "vik", "stad", "land", "sund", "nes", "rud", "by", "bakke", "li", "mo",
             "haug", "tun", "øy", "fjell", "elv", "skog", "vann", "gard", "lag", "verk", "hus", "bok", "mann",
             "tid", "sted", "fest", "lære", "skap", "dom", "het", "ing", "else", "laget", "ene", "ane",
             "kraft", "veg", "vei", "bru", "torg", "kirke", "skole", "bane", "havn", "lund")
_WORD = re.compile(r"^[0-9A-Za-zÆØÅæøåÉéÈèÊêÓóÒòÔôÜüÄäÖö-]+$")
SEP = (" ", ",", ".", "?", "!", "\n", "\n\n", "", "\n|\n", " ¶\n")  # separator pieces, in this order after words, capitals, syllables


def _read_sample_docs() -> list[list[list[str]]]:
    """Documents -> sentences -> tokens of the bundled samples (the cut-off last sentence dropped)."""
    docs = []
    for path in SAMPLES:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                sentences, cur = [], []
                for tok in line.split():
                    cur.append(tok)
                    if tok in (".", "!", "?"):
                        sentences.append(cur)
                        cur = []
                if sentences:
                    docs.append(sentences)
    return docs


def _usable(word: str) -> bool:
    if not _WORD.match(word) or word.startswith("-") or word.endswith("-"):
        return False
    return word.encode("latin-1", "replace").decode("iso-8859-15") == word


def heaps_fit(tokens: list[str]) -> tuple[float, float]:
    """(K, beta) of V(N) = K N^beta, least squares in log-log over the second half of the curve."""
    seen, points = set(), []
    marks = set(np.unique(np.geomspace(len(tokens) / 50, len(tokens), 20).astype(int)).tolist())
    for n, tok in enumerate(tokens, start=1):
        seen.add(tok)
        if n in marks:
            points.append((n, len(seen)))
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    beta, log_k = np.polyfit(x, y, 1)
    return float(np.exp(log_k)), float(beta)


@dataclass
class Model:
    words: list[str]  # bundled words by descending frequency
    cdf: np.ndarray  # inverse-CDF table of the unigram distribution of `words`
    alpha_cdf: np.ndarray  # the same over sentence-initial candidates (alphabetic)
    alpha_ids: np.ndarray
    end_cdf: np.ndarray  # ... and over sentence-final candidates (alphabetic, >= 4 letters)
    end_ids: np.ndarray
    sent_words: np.ndarray  # observed sentence lengths in words
    doc_sents: np.ndarray  # observed document lengths in sentences
    comma_rate: float
    end_share: np.ndarray  # P(. ? !)
    heaps_k: float
    heaps_beta: float
    pool: np.ndarray  # uint8 bytes of every piece
    piece_off: np.ndarray
    piece_len: np.ndarray

    @property
    def n_words(self) -> int:
        return len(self.words)

    def piece(self, name: str) -> int:
        """Id of a separator piece."""
        return 2 * self.n_words + len(SYLLABLES) + SEP.index(name)


LOOKUP_BITS = 22  # inverse-CDF lookup tables: probabilities resolved to 2^-22


def _cdf_of(counts: np.ndarray) -> np.ndarray:
    """Inverse-CDF table: a uniform integer below 2^LOOKUP_BITS indexes the drawn rank (uint16 while the
    ranks fit: a table of 8 MB instead of 16 keeps the random lookups in cache)."""
    c = np.cumsum(counts, dtype=np.float64)
    size = 1 << LOOKUP_BITS
    # table[i] = number of cumulative shares p <= (i + 0.5) / size, i.e. searchsorted(p, grid, "right");
    # each share counts from the first i >= p * size - 0.5 on (exact in binary floating point)
    first = np.ceil(c / c[-1] * size - 0.5).clip(0, size).astype(np.int64)
    table = np.cumsum(np.bincount(first, minlength=size + 1)[:size], dtype=np.int32)
    np.minimum(table, len(counts) - 1, out=table)
    return table.astype(np.uint16) if len(counts) <= 1 << 16 else table


def sample(table: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """n ranks drawn through an inverse-CDF table of `_cdf_of`."""
    return table.take(rng.integers(0, 1 << LOOKUP_BITS, n)).astype(np.int64)


def fit() -> Model:
    """Fit the model on the bundled samples (about half a second)."""
    docs = _read_sample_docs()
    usable = {t for doc in docs for sent in doc for t in sent}
    usable = {t for t in usable if _usable(t)}
    all_words, sent_words, commas, ends = [], [], 0, {".": 0, "?": 0, "!": 0}
    for doc in docs:
        for sent in doc:
            ws = [t for t in sent if t in usable]
            commas += sent.count(",")
            ends[sent[-1]] += 1
            if len(ws) >= 3:
                sent_words.append(len(ws))
            all_words.extend(ws)
    k, beta = heaps_fit(all_words)
    by_freq = sorted(Counter(all_words).items(), key=lambda wc: (-wc[1], wc[0]))
    words = [w for w, _ in by_freq]
    counts = np.array([c for _, c in by_freq], dtype=np.float64)
    alpha = np.array([w.isalpha() for w in words])
    end = np.array([w.isalpha() and len(w) >= 4 for w in words])
    caps = [w[0].upper() + w[1:] for w in words]
    pieces = [*words, *caps, *SYLLABLES, *SEP]
    enc = [p.encode("utf-8") for p in pieces]
    plen = np.array([len(b) for b in enc], dtype=np.int64)
    return Model(words=words, cdf=_cdf_of(counts), alpha_cdf=_cdf_of(counts[alpha]), alpha_ids=np.flatnonzero(alpha),
                 end_cdf=_cdf_of(counts[end]), end_ids=np.flatnonzero(end),
                 sent_words=np.array(sent_words), doc_sents=np.array([max(3, len(d)) for d in docs]),
                 comma_rate=commas / len(all_words),
                 end_share=np.array([ends["."], ends["?"], ends["!"]], dtype=np.float64) / sum(ends.values()),
                 heaps_k=k, heaps_beta=beta, pool=np.frombuffer(b"".join(enc), dtype=np.uint8),
                 piece_off=np.concatenate([[0], np.cumsum(plen)[:-1]]), piece_len=plen)


def draw_words(model: Model, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(word piece, syllable piece or -1) for n running words: the bundled head, or a Zipf-tail compound."""
    v = model.n_words
    word = sample(model.cdf, rng, n)
    suffix = np.full(n, -1, np.int64)
    tail = np.flatnonzero(rng.random(n) < TAIL_SHARE)
    rank = (rng.zipf(1.0 / model.heaps_beta, size=tail.size) - 1) % (v * (len(SYLLABLES) + 1))
    word[tail] = rank % v
    syl = rank // v - 1
    has = syl >= 0
    suffix[tail[has]] = 2 * v + syl[has]
    return word, suffix


def runs(begin: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenated ranges begin[k] .. begin[k] + lens[k] - 1 (int32: indexes below 2^31), by one cumulative sum."""
    keep = lens > 0
    begin, lens = begin[keep].astype(np.int32), lens[keep].astype(np.int32)
    out_start = np.cumsum(lens, dtype=np.int64) - lens
    step = np.ones(int(out_start[-1] + lens[-1]) if lens.size else 0, np.int32)
    if lens.size:
        step[0] = begin[0]
        step[out_start[1:]] = begin[1:] - begin[:-1] - lens[:-1] + 1
    return np.cumsum(step, dtype=np.int32, out=step)


def render(model: Model, pieces: np.ndarray) -> bytes:
    """UTF-8 bytes of a piece sequence (one vectorised gather)."""
    return model.pool.take(runs(model.piece_off.take(pieces), model.piece_len.take(pieces))).tobytes()
