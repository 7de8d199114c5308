"""A Norwegian-like corpus of any size in the real input formats, deterministic by seed.

For bench/scale.py (the paper's scale rehearsed on one machine) and the dedup test.  The text model
(bench/synth_corpus_model.py) is fitted on the bundled Wikipedia samples; this file lays its
sentences out as documents and paragraphs, injects duplicates at known rates and writes:
  wikipedia   MediaWiki XML dumps (.xml.bz2, multistream), read through gensim's segment_wiki
  nak-tokens  Latin-1, one token per line, `<U url>` article headers, `|` paragraph breaks
  nak-text    Latin-1 tokenised running text, `##U url>` headers, `¶` paragraph ends
  nak-xml     one XML article per member of .tar.gz archives
  plain       UTF-8, one paragraph per line, a blank line between documents
Injected: a share of sentences (>= 6 words) replaced by an exact copy of an earlier sentence of the
same file, and a share of documents (>= 150 words) replaced by a copy of an earlier one with one
word changed (a near duplicate: Jaccard of word 5-grams ~0.9).  truth.json counts both (only the
exact copies outside near-copied documents count as exact duplicates), per source and in total.

    python bench/synth_corpus.py OUT --mb 40 [--seed 1] [--mix paper|plain] [--file-mb 4]

`--mix paper` follows the paper's composition (NAK 89 % in its three formats, Bokmål Wikipedia
8.4 %, Nynorsk 2.1 %); OUT/corpus.toml holds the matching [[corpus.sources]].
"""
from __future__ import annotations

import argparse
import bz2
import ctypes
import gzip
import json
import multiprocessing
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_corpus_model import Model, draw_words, fit, render, runs, sample  # noqa: E402

DUP_SENTENCE_RATE = 0.02
NEAR_DOC_RATE = 0.01
PARAGRAPH_BREAK = 0.25  # chance of a paragraph break after a sentence (always at a document end)
CHUNK_BYTES = 4_000_000
MIXES = {  # source name -> (kind, lang, share)
    "paper": {"nak-tokens": ("nak-tokens", "nb", 0.31), "nak-text": ("nak-text", "nb", 0.27),
              "nak-xml": ("nak-xml", "nb", 0.31), "wiki-nb": ("wikipedia", "nb", 0.085),
              "wiki-nn": ("wikipedia", "nn", 0.025)},
    "plain": {"plain": ("plain", "nb", 1.0)},
}
WIKI_HEAD = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="{lang}">\n'
             "  <siteinfo><sitename>Wikipedia</sitename><dbname>{lang}wiki</dbname></siteinfo>\n")


@dataclass
class Chunk:
    """One generated piece of a file: its bytes (per document for the wrapped formats) and counts."""

    docs: list[bytes]
    sentences: int
    words: int
    exact_dups: int
    near_docs: int
    near_copy_sentences: int  # sentences of >= 5 words inside near-copied documents (exact copies)


def _sentences(model: Model, rng: np.random.Generator, n: int, space: int, tokenized: bool):
    """Piece store of n fresh sentences: (pieces, start per sentence, pieces per sentence, words)."""
    v = model.n_words
    lengths = model.sent_words[rng.integers(0, len(model.sent_words), n)]
    total = int(lengths.sum())
    first = np.cumsum(lengths) - lengths
    last = first + lengths - 1
    word, suffix = draw_words(model, rng, total)
    word[first] = model.alpha_ids[sample(model.alpha_cdf, rng, n)] + v
    word[last] = model.end_ids[sample(model.end_cdf, rng, n)]
    suffix[first] = suffix[last] = -1
    comma = rng.random(total) < model.comma_rate
    comma[last] = False
    end_kind = np.searchsorted(np.cumsum(model.end_share), rng.random(n), side="right").clip(0, 2)
    # each word's pieces, in order: [space unless first] word [syllable] [space if tokenized, comma]
    # and, ending a sentence, [space if tokenized] end mark
    inner = np.ones(total, bool)
    inner[first] = False
    has_suffix = suffix >= 0
    per_word = inner.astype(np.int32) + 1 + has_suffix + comma * (1 + tokenized)
    per_word[last] += 1 + tokenized
    end = np.cumsum(per_word, dtype=np.int64)
    pos = end - per_word
    pieces = np.empty(int(end[-1]) if total else 0, np.int32)
    pieces[pos[inner]] = space
    pos += inner
    pieces[pos] = word
    pos += 1
    pieces[pos[has_suffix]] = suffix[has_suffix]
    pos += has_suffix
    marks = ((np.flatnonzero(comma), model.piece(",")), (last, model.piece(".") + end_kind))
    for at, mark in marks:
        if tokenized:
            pieces[pos[at]] = space
            pos[at] += 1
        pieces[pos[at]] = mark
        pos[at] += 1
    start = end[first] - per_word[first]
    return pieces, start, end[last] - start, lengths


def _doc_lengths(model: Model, rng: np.random.Generator, n_sent: int) -> np.ndarray:
    draws = model.doc_sents[rng.integers(0, len(model.doc_sents), max(4, n_sent // 5))]
    cut = int(np.searchsorted(np.cumsum(draws), n_sent)) + 1
    return draws[:cut]


def _inject_exact(rng, words: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, int]:
    """ref[i] = the sentence whose text sentence i shows; only sentences in `keep` take part."""
    ref = np.arange(len(words))
    cand = np.flatnonzero(keep)
    pick = rng.random(cand.size) < DUP_SENTENCE_RATE
    src = cand[np.floor(rng.random(cand.size) * np.arange(cand.size)).astype(np.int64)]
    ok = pick & (np.arange(cand.size) > 0) & (words[src] >= 6)
    ref[cand[ok]] = src[ok]
    while True:  # copies of copies show the original
        nxt = ref[ref]
        if np.array_equal(nxt, ref):
            return ref, int(ok.sum())
        ref = nxt


def make_chunk(model: Model, rng: np.random.Generator, target_bytes: int, fmt: dict) -> Chunk:
    """Documents of about `target_bytes`, with injected exact and near duplicates."""
    n_sent = max(20, target_bytes // 95)
    doc_len = _doc_lengths(model, rng, n_sent)
    n_sent = int(doc_len.sum())
    pieces, start, count, words = _sentences(model, rng, n_sent, fmt["space"], fmt["tokenized"])
    doc_first = np.cumsum(doc_len) - doc_len
    doc_words = np.add.reduceat(words, doc_first)
    copy_of = np.full(len(doc_len), -1)
    near = np.flatnonzero(rng.random(len(doc_len)) < NEAR_DOC_RATE)
    for d in near[near > 0]:
        e = int(rng.integers(0, d))
        if doc_words[e] >= 150 and copy_of[e] < 0:
            copy_of[d] = e
    keep = np.repeat(copy_of < 0, doc_len)
    ref, n_exact = _inject_exact(rng, words, keep)
    extra, refs, near_copy = [], [], 0
    for d in range(len(doc_len)):
        e = copy_of[d]
        if e < 0:
            refs.append(ref[doc_first[d]:doc_first[d] + doc_len[d]])
            continue
        orig = ref[doc_first[e]:doc_first[e] + doc_len[e]].copy()
        m = len(orig) // 2
        sent = pieces[start[orig[m]]:start[orig[m]] + count[orig[m]]].copy()
        lower = np.flatnonzero(sent < model.n_words)
        j = lower[len(lower) // 2]
        sent[j] = (sent[j] + 1 + rng.integers(0, model.n_words - 1)) % model.n_words
        extra.append(sent)
        near_copy += int((words[orig] >= 5).sum() - (words[orig[m]] >= 5))
        orig[m] = n_sent + len(extra) - 1
        refs.append(orig)
    if extra:
        start = np.concatenate([start, len(pieces) + np.cumsum([0] + [len(s) for s in extra[:-1]])])
        count = np.concatenate([count, [len(s) for s in extra]])
        words = np.concatenate([words, [words[0]] * len(extra)])
        pieces = np.concatenate([pieces, *extra])
    flat = np.concatenate(refs)
    docs = _lay_out(model, rng, pieces, start, count, flat, np.cumsum([len(r) for r in refs]) - 1, fmt)
    return Chunk(docs, len(flat), int(words[flat].sum()), n_exact, int((copy_of >= 0).sum()), near_copy)


def _lay_out(model, rng, pieces, start, count, flat, ends, fmt) -> list[bytes]:
    """Render documents (sentences `flat`, the last of each document at `ends`): separators after each
    sentence (in paragraph, paragraph end, document end)."""
    sep = np.where(rng.random(flat.size) < PARAGRAPH_BREAK, model.piece(fmt["para"]), model.piece(fmt["within"]))
    sep[ends] = model.piece(fmt["doc"])
    lens = count[flat] + 1
    seq = np.append(pieces, 0)[runs(start[flat], lens)]  # the slot after a sentence's last piece: its separator
    seq_end = np.cumsum(lens)
    seq[seq_end - 1] = sep
    blob = render(model, seq)
    bounds = [0, *np.cumsum(model.piece_len[seq])[seq_end[ends] - 1].tolist()]
    return [blob[a:b] for a, b in zip(bounds, bounds[1:])]


FORMATS = {  # separator pieces and spacing of each kind
    "plain": {"space": " ", "tokenized": False, "within": " ", "para": "\n", "doc": "\n\n"},
    "wikipedia": {"space": " ", "tokenized": False, "within": " ", "para": "\n\n", "doc": ""},
    "nak-text": {"space": " ", "tokenized": True, "within": " ", "para": " ¶\n", "doc": " ¶\n"},
    "nak-tokens": {"space": "\n", "tokenized": True, "within": "\n", "para": "\n|\n", "doc": "\n"},
    "nak-xml": {"space": " ", "tokenized": False, "within": " ", "para": "\n", "doc": ""},
}


def _fmt(model: Model, kind: str) -> dict:
    f = dict(FORMATS[kind])
    f["space"] = model.piece(f["space"])
    return f


def _wiki_page(body: bytes, n: int) -> bytes:
    return (b"  <page>\n    <title>Side %d</title>\n    <ns>0</ns>\n    <id>%d</id>\n    <revision>\n"
            b"      <text xml:space=\"preserve\">%s</text>\n    </revision>\n  </page>\n" % (n, n, body.strip()))


def _nak_header(kind: str, n: int) -> bytes:
    return (b"<U http://synth.example/nak/%d>\n<B synth>\n" % n if kind == "nak-tokens"
            else b"##U http://synth.example/nak/%d>\n##B synth>\n" % n)


def _xml_article(body: bytes, n: int) -> bytes:
    paras = b"".join(b"<p>%s</p>" % p for p in body.split(b"\n") if p)
    return (b'<?xml version="1.0" encoding="utf-8"?>\n<text>\n<attribute name="url" value="http://synth.example/%d"/>\n'
            b'<div type="text">%s</div>\n</text>\n' % (n, paras))


def write_file(model: Model, path: Path, kind: str, lang: str, size: int, seed: int, file_no: int) -> dict:
    """One input file of about `size` bytes of text; returns its counts."""
    fmt = _fmt(model, kind)
    chunks, done, c = [], 0, 0
    while done < size:
        rng = np.random.default_rng([seed, file_no, c])
        chunk = make_chunk(model, rng, min(CHUNK_BYTES, size - done + 1000), fmt)
        done += sum(len(d) for d in chunk.docs)
        chunks.append(chunk)
        c += 1
    n = file_no * 10_000_000
    docs = [d for ch in chunks for d in ch.docs]
    if kind == "plain":
        path.write_bytes(b"".join(docs))
    elif kind in ("nak-tokens", "nak-text"):
        text = b"".join(_nak_header(kind, n + i) + d for i, d in enumerate(docs))
        path.write_bytes(text.decode("utf-8").encode("latin-1"))
    elif kind == "wikipedia":
        _write_wiki(path, lang, docs, n)
    else:
        _write_tar(path, docs, n)
    counts = {k: sum(getattr(ch, k) for ch in chunks) for k in
              ("sentences", "words", "exact_dups", "near_docs", "near_copy_sentences")}
    return {"file": path.name, "documents": len(docs), "text_bytes": done, **counts}


def _write_wiki(path: Path, lang: str, docs: list[bytes], n: int) -> None:
    """A multistream dump (bz2 streams compressed in threads: bz2 releases the GIL)."""
    blocks = [WIKI_HEAD.format(lang=lang).encode()]
    for b in range(0, len(docs), 200):
        blocks.append(b"".join(_wiki_page(d, n + b + i) for i, d in enumerate(docs[b:b + 200])))
    blocks.append(b"</mediawiki>\n")
    with ThreadPoolExecutor(2) as pool:
        streams = list(pool.map(lambda x: bz2.compress(x, 9), blocks))
    path.write_bytes(b"".join(streams))


# A ustar member header as tarfile writes it for a regular file (mode 0644, ids, times and owner
# names zero or empty), split around its name, size and checksum fields.
_TAR_MID = b"0000644\0" + b"0000000\0" * 2
_TAR_TAIL = b"0" + b"\0" * 100 + b"ustar\x0000" + b"\0" * (32 + 32 + 8 + 8 + 155 + 12)
_TAR_ZERO_TIME = b"%011o\0" % 0
_TAR_SUM = sum(_TAR_MID) + sum(_TAR_ZERO_TIME) + sum(b" " * 8) + sum(_TAR_TAIL)  # + name and size: the checksum


def _tar_member(name: bytes, data: bytes) -> bytes:
    """Header, data and padding of one member (what tarfile.addfile writes, built without TarInfo)."""
    size = b"%011o\0" % len(data)
    check = _TAR_SUM + sum(name) + sum(size)
    head = name.ljust(100, b"\0") + _TAR_MID + size + _TAR_ZERO_TIME + b"%06o\0 " % check + _TAR_TAIL
    return head + data + b"\0" * (-len(data) % tarfile.BLOCKSIZE)


def _write_tar(path: Path, docs: list[bytes], n: int) -> None:
    """A .tar.gz of one XML article per member (a plain tar stream, gzip level 1)."""
    tar = [_tar_member(b"synth/%06d/%d.xml" % ((n + i) // 1000, n + i), _xml_article(d, n + i))
           for i, d in enumerate(docs)]
    size = sum(map(len, tar)) + 2 * tarfile.BLOCKSIZE  # two zero blocks end the archive ...
    tar.append(b"\0" * (2 * tarfile.BLOCKSIZE + -size % tarfile.RECORDSIZE))  # ... padded to a whole record
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as gz:
        gz.write(b"".join(tar))


SUFFIX = {"wikipedia": ".xml.bz2", "nak-tokens": ".txt", "nak-text": ".txt", "nak-xml": ".tar.gz", "plain": ".txt"}


_MODEL: Model | None = None  # the fitted model, inherited by forked workers


def _write_job(job: tuple) -> dict:
    return write_file(_MODEL, *job)


def _indexed_job(job: tuple) -> tuple[int, dict]:
    return job[0], _write_job(job[1])


def generate(out: Path, mb: float, seed: int = 1, mix: str = "paper", file_mb: float = 4.0, workers: int = 1) -> dict:
    """Write the corpus under `out`; returns (and writes) truth.json."""
    model = fit()
    out.mkdir(parents=True, exist_ok=True)
    truth = {"seed": seed, "mix": mix, "mb": mb, "heaps_k": round(model.heaps_k, 3),
             "heaps_beta": round(model.heaps_beta, 4), "sources": {}}
    toml, file_no, jobs = [], 0, []
    for name, (kind, lang, share) in MIXES[mix].items():
        size = int(mb * 1e6 * share)
        n_files = 1 if kind == "wikipedia" else max(1, round(size / (file_mb * 1e6)))
        (out / name).mkdir(exist_ok=True)
        for f in range(n_files):
            file_no += 1
            jobs.append((name, (out / name / f"{name}-{f:04d}{SUFFIX[kind]}", kind, lang, size // n_files, seed,
                                file_no)))
    global _MODEL
    _MODEL = model
    if workers > 1:  # one file per task, the largest first (a big Wikipedia dump last would run alone)
        order = sorted(range(len(jobs)), key=lambda i: -jobs[i][1][3])
        done = [{}] * len(jobs)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for i, d in pool.imap_unordered(_indexed_job, [(i, jobs[i][1]) for i in order], chunksize=1):
                done[i] = d
    else:
        done = [_write_job(j) for _, j in jobs]
    for name, (kind, lang, _) in MIXES[mix].items():
        files = [d for (n, _), d in zip(jobs, done) if n == name]
        total = {k: sum(f[k] for f in files) for k in files[0] if k != "file"}
        truth["sources"][name] = {"kind": kind, "lang": lang, **total, "files": files}
        extra = "docs = \"blank\"\n" if kind == "plain" else ""
        toml.append(f'[[corpus.sources]]\nname = "{name}"\nkind = "{kind}"\npaths = ["{out.resolve() / name}"]\n'
                    f'lang = "{lang}"\n{extra}')
    keys = ("documents", "text_bytes", "sentences", "words", "exact_dups", "near_docs", "near_copy_sentences")
    truth["total"] = {k: sum(s[k] for s in truth["sources"].values()) for k in keys}
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    (out / "corpus.toml").write_text("\n".join(toml))
    return truth


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the machine may be shared)."""
    import os

    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _keep_freed_memory() -> None:
    """Let glibc's malloc reuse freed memory instead of returning it to the system: each chunk's arrays
    (tens of MB) would otherwise be fresh pages, and faulting them in cost ~15 % of the run.  Only the
    command line sets this (it lasts for the process); elsewhere, or off glibc, nothing changes."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: heap, not mmap, up to glibc's maximum (32 MB)
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GB of free heap
        libc.mallopt(-2, 64 << 20)  # M_TOP_PAD: grow the heap in steps of 64 MB
    except (OSError, AttributeError):
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--mb", type=float, default=10.0, help="MB of text (before format overhead)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", choices=sorted(MIXES), default="paper")
    ap.add_argument("--file-mb", type=float, default=4.0, help="MB of text per input file (NAK, plain)")
    ap.add_argument("--workers", type=int, default=1, help="processes writing files (output does not change)")
    args = ap.parse_args(argv)
    _keep_freed_memory()
    t0, c0 = time.perf_counter(), _cpu()
    truth = generate(args.out, args.mb, args.seed, args.mix, args.file_mb, args.workers)
    secs, cpu = time.perf_counter() - t0, _cpu() - c0
    t = truth["total"]
    print(f"synth_corpus: {t['text_bytes'] / 1e6:.1f} MB of text, {t['words']:,} words, {t['sentences']:,} sentences, "
          f"{t['documents']:,} documents in {secs:.1f} s wall, {cpu:.1f} CPU s ({t['text_bytes'] / 1e6 / secs:.1f} MB/s wall, "
          f"{t['text_bytes'] / 1e6 / cpu:.1f} MB per CPU s); "
          f"injected {t['exact_dups']:,} exact duplicate sentences, {t['near_docs']:,} near-duplicate documents; "
          f"Heaps K={truth['heaps_k']} beta={truth['heaps_beta']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
