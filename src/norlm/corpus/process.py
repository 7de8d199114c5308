"""Step 1, parallel over units: read -> clean -> segment -> filter -> a per-unit intermediate.

Each unit's result is written to `parts/<source>/<NNNNNN>.{txt.gz,lines.npy,docs.npy,json}` (json
last = done): its documents (one sentence per line, blank line between documents), the dedup keys
of its sentences and of its documents' MinHash bands (sorted by key, so a dedup bucket reads only
its slice), and its counts.  A part whose fingerprint still matches is reused,
so a run killed in step 1 redoes only the units without a finished part (a unit that is a byte range
of a large Wikipedia dump records its `span` there and in its fingerprint).  Memory per worker does
not grow with the unit: its keys are sorted on disk in runs of at most corpus.dedup_max_entries
(`key_runs.SortedKeyFile`), and readers stream their files.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from norlm.corpus.dedup import MinHasher, key64
from norlm.corpus.key_runs import SortedKeyFile
from norlm.corpus.filters import drop_reason
from norlm.corpus.inputs import Issues
from norlm.corpus.readers import Unit, reader_for
from norlm.corpus.segment import make_segmenter
from norlm.corpus.text import dedup_key, words
from norlm.files import atomic_open, read_json, write_json

PART_FORMAT = 3
_SEGMENTERS: dict[tuple[str, str], object] = {}


def part_paths(parts_dir: Path, source_name: str, unit: Unit) -> dict[str, Path]:
    base = parts_dir / source_name / f"{unit.index:06d}"
    return {"text": base.with_suffix(".txt.gz"), "lines": base.with_suffix(".lines.npy"),
            "docs": base.with_suffix(".docs.npy"), "stats": base.with_suffix(".json")}


def unit_fingerprint(unit: Unit, source, cfg, segmenter: str, seed: int) -> str:
    """Changes whenever the unit's files, its byte range or any setting that shapes its part change."""
    stat = [(p, os.path.getsize(p), os.stat(p).st_mtime_ns) for p in unit.files]
    if unit.span is not None:  # (units without a range keep the fingerprints they had before ranges existed)
        stat.append(("span", *unit.span))
    settings = {k: v for k, v in asdict(cfg).items()
                if k not in ("sources", "shard_mb", "dedup_max_entries", "unit_mb")}  # unit_mb acts via the span
    blob = json.dumps([PART_FORMAT, stat, asdict(source), settings, segmenter, seed], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _segmenter(name: str, lang: str, batch_size: int):
    if (name, lang) not in _SEGMENTERS:
        _SEGMENTERS[(name, lang)] = make_segmenter(name, lang, batch_size)
    return _SEGMENTERS[(name, lang)]


def process_unit(job: tuple) -> dict:
    """Worker entry point: build (or reuse) the part of one unit; returns its stats."""
    unit, source, cfg, segmenter_name, seed, parts_dir, force = job
    paths = part_paths(Path(parts_dir), source.name, unit)
    fingerprint = unit_fingerprint(unit, source, cfg, segmenter_name, seed)
    if not force and paths["stats"].is_file():
        old = read_json(paths["stats"])
        if old.get("fingerprint") == fingerprint and all(paths[k].is_file() for k in ("text", "lines", "docs")):
            old["reused"] = True
            return old

    issues = Issues()
    segmenter = _segmenter(segmenter_name, source.lang, cfg.stanza_batch_size) if source.segment else None
    hasher = MinHasher(cfg.minhash_bands, cfg.minhash_rows, cfg.minhash_shingle, seed) if cfg.near_dedup else None
    counts = Counter()
    line_keys = SortedKeyFile(paths["lines"], cfg.dedup_max_entries)
    doc_keys = SortedKeyFile(paths["docs"], cfg.dedup_max_entries)
    n_lines = 0
    with atomic_open(paths["text"], "w") as out:
        for doc in reader_for(source.kind)(unit, source, cfg, issues):
            sentences = doc.parts if doc.sentences else segmenter.split(doc.parts)
            kept = []
            for sentence in sentences:
                reason = drop_reason(sentence, cfg.filters)
                if reason:
                    issues.drop(reason)
                else:
                    kept.append(sentence)
            if not kept:
                issues.drop("empty-document")
                continue
            if counts["documents"]:
                out.write("\n")
            for sentence in kept:
                if cfg.dedup and words(sentence) >= cfg.dedup_min_tokens:
                    line_keys.add(key64(dedup_key(sentence)), n_lines)
                out.write(sentence + "\n")
                n_lines += 1
                counts["words"] += words(sentence)
                counts["chars"] += len(sentence)
            if hasher is not None:
                doc_keys.extend(hasher.band_keys(kept), counts["documents"])
            counts["sentences"] += len(kept)
            counts["documents"] += 1
    line_keys.close()
    doc_keys.close()
    stats = {
        "fingerprint": fingerprint,
        "source": source.name,
        "unit": unit.index,
        "files": list(unit.files),
        **({"span": list(unit.span)} if unit.span is not None else {}),
        **{k: counts[k] for k in ("documents", "sentences", "words", "chars")},
        "dropped": dict(sorted(issues.dropped.items())),
        "bad_input": dict(sorted(issues.counts.items())),
        "info": dict(sorted(issues.info.items())),
        "messages": issues.messages,
    }
    write_json(paths["stats"], stats)
    stats["reused"] = False
    return stats
