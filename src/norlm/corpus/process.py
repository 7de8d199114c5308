"""Step 1, parallel over units: read -> clean -> segment -> filter -> a per-unit intermediate.

Each unit's result is written to `parts/<source>/<NNNNNN>.{txt.gz,npz,json}` (json last = done):
its documents (one sentence per line, blank line between documents), the dedup keys of its
sentences and documents, and its counts.  A part whose fingerprint still matches is reused.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np

from norlm.corpus.dedup import MinHasher, key64
from norlm.corpus.filters import drop_reason
from norlm.corpus.inputs import Issues
from norlm.corpus.readers import Unit, reader_for
from norlm.corpus.segment import make_segmenter
from norlm.corpus.text import dedup_key, words
from norlm.files import atomic_open, read_json, write_json

PART_FORMAT = 1
_SEGMENTERS: dict[tuple[str, str], object] = {}


def part_paths(parts_dir: Path, source_name: str, unit: Unit) -> dict[str, Path]:
    base = parts_dir / source_name / f"{unit.index:06d}"
    return {"text": base.with_suffix(".txt.gz"), "keys": base.with_suffix(".npz"), "stats": base.with_suffix(".json")}


def unit_fingerprint(unit: Unit, source, cfg, segmenter: str, seed: int) -> str:
    """Changes whenever the unit's files or any setting that shapes its part change."""
    stat = [(p, os.path.getsize(p), os.stat(p).st_mtime_ns) for p in unit.files]
    settings = {k: v for k, v in asdict(cfg).items() if k not in ("sources", "shard_mb", "dedup_max_entries")}
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
        if old.get("fingerprint") == fingerprint and paths["text"].is_file() and paths["keys"].is_file():
            old["reused"] = True
            return old

    issues = Issues()
    segmenter = _segmenter(segmenter_name, source.lang, cfg.stanza_batch_size) if source.segment else None
    hasher = MinHasher(cfg.minhash_bands, cfg.minhash_rows, cfg.minhash_shingle, seed) if cfg.near_dedup else None
    counts = Counter()
    line_idx: list[int] = []
    line_keys: list[int] = []
    doc_keys: list[np.ndarray] = []
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
                    line_idx.append(n_lines)
                    line_keys.append(key64(dedup_key(sentence)))
                out.write(sentence + "\n")
                n_lines += 1
                counts["words"] += words(sentence)
                counts["chars"] += len(sentence)
            counts["sentences"] += len(kept)
            counts["documents"] += 1
            if hasher is not None:
                doc_keys.append(hasher.band_keys(kept))
    with atomic_open(paths["keys"], "wb") as fh:
        bands = cfg.minhash_bands if doc_keys else 0
        np.savez(fh, line_idx=np.asarray(line_idx, dtype=np.int64), line_keys=np.asarray(line_keys, dtype=np.uint64),
                 doc_keys=np.asarray(doc_keys, dtype=np.uint64).reshape(len(doc_keys), bands))
    stats = {
        "fingerprint": fingerprint,
        "source": source.name,
        "unit": unit.index,
        "files": list(unit.files),
        **{k: counts[k] for k in ("documents", "sentences", "words", "chars")},
        "dropped": dict(sorted(issues.dropped.items())),
        "bad_input": dict(sorted(issues.counts.items())),
        "info": dict(sorted(issues.info.items())),
        "messages": issues.messages,
    }
    write_json(paths["stats"], stats)
    stats["reused"] = False
    return stats
