"""Step 3, one job per source: parts minus duplicates -> `<source>-NNNN.txt.gz` shards.

Shards hold one sentence per line and one blank line between documents; a document is never cut
across two shards.  The gzip header has
mtime 0 (norlm.files.atomic_open), so the same parts always give byte-identical shards.
A shard holds at most `shard_mb` of text unless a single document is larger than that.
Duplicates are looked up one unit at a time in the buckets' pair files (plain reads of the unit's slice), so a job's
memory does not grow with the corpus.
"""
from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path

from norlm.corpus.dedup import DuplicateFiles
from norlm.files import atomic_open, open_text, sha256_file


class ShardWriter:
    """Writes documents into numbered gzip shards of bounded uncompressed size."""

    def __init__(self, out_dir: Path, name: str, shard_bytes: int):
        self.out_dir, self.name, self.limit = out_dir, name, shard_bytes
        self.shards: list[dict] = []
        self._stack: contextlib.ExitStack | None = None
        self._fh = None
        self._bytes = 0
        self._sentences = 0

    def _path(self, n: int) -> Path:
        return self.out_dir / f"{self.name}-{n:04d}.txt.gz"

    def write(self, sentences: list[str]) -> None:
        text = "".join(s + "\n" for s in sentences)
        size = len(text.encode("utf-8"))
        if self._fh is not None and self._bytes + 1 + size > self.limit:
            self._close()  # a document is never split: it opens the next shard instead
        if self._fh is None:
            self._stack = contextlib.ExitStack()
            self._fh = self._stack.enter_context(atomic_open(self._path(len(self.shards)), "w"))
            self._bytes = self._sentences = 0
        elif self._bytes:
            self._fh.write("\n")
        self._fh.write(text)
        self._bytes += size + (1 if self._bytes else 0)
        self._sentences += len(sentences)

    def _close(self) -> None:
        if self._fh is None:
            return
        self._stack.close()
        path = self._path(len(self.shards))
        self.shards.append({"file": path.name, "sentences": self._sentences, "bytes": path.stat().st_size,
                            "sha256": sha256_file(path)})
        self._fh = self._stack = None

    def finish(self) -> list[dict]:
        self._close()
        n = len(self.shards)
        while self._path(n).exists():  # shards left by an earlier, larger run of this source
            self._path(n).unlink()
            n += 1
        return self.shards


def _documents(path: Path):
    """(document index, [(line index, sentence)]) of a part file."""
    doc: list[tuple[int, str]] = []
    d = n = 0
    with open_text(path) as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                yield d, doc
                doc, d = [], d + 1
                continue
            doc.append((n, line))
            n += 1
    if doc:
        yield d, doc


def write_source(job: tuple) -> dict:
    """Write one source's shards from its units' parts; returns its post-dedup counts."""
    name, units, unit_source, parts_dir, out_dir, shard_bytes, line_files, doc_files = job
    line_dups = DuplicateFiles(line_files)
    doc_dups = DuplicateFiles(doc_files) if doc_files is not None else None
    writer = ShardWriter(Path(out_dir), name, shard_bytes)
    counts = Counter()
    my_source = unit_source[units[0][0]] if units else None
    for g, unit in units:
        dup_lines = line_dups.of_unit(g)
        dup_docs = doc_dups.of_unit(g) if doc_dups is not None else {}
        for d, doc in _documents(Path(parts_dir) / name / f"{unit.index:06d}.txt.gz"):
            if d in dup_docs:
                counts["near_duplicate_documents"] += 1
                continue
            kept = []
            for n, sentence in doc:
                if n in dup_lines:
                    same = unit_source[dup_lines[n]] == my_source
                    counts["duplicates_within" if same else "duplicates_across"] += 1
                else:
                    kept.append(sentence)
            if not kept:
                counts["empty_after_dedup"] += 1
                continue
            writer.write(kept)
            counts["documents"] += 1
            counts["sentences"] += len(kept)
            counts["words"] += sum(len(s.split()) for s in kept)
            counts["chars"] += sum(len(s) for s in kept)
    keys = ("documents", "sentences", "words", "chars", "duplicates_within", "duplicates_across",
            "near_duplicate_documents", "empty_after_dedup")
    return {"source": name, **{k: counts[k] for k in keys}, "shards": writer.finish()}
