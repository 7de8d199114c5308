"""Raw Wikipedia / Norsk Aviskorpus / plain / NDT text -> clean, deduplicated, sentence-segmented shards.

Writes WORK/corpus/<source>-NNNN.txt.gz (one sentence per line, a blank line between documents,
UTF-8) and, last, WORK/corpus/stats.json with per-source documents, sentences, words, characters,
duplicates removed and records dropped by reason; the same table is printed.

Three steps, each split over --workers processes and over MPI ranks (`mpirun -np N norlm corpus`):
  1. per input unit (a file, an NDT group, or a byte range of a Wikipedia dump larger than
     corpus.unit_mb): read, clean, segment, filter -> parts/ (reused on reruns while inputs and
     settings are unchanged);
  2. per hash bucket: find sentences (>= 5 words) and, with --near-dedup, documents already seen
     at an earlier position (sources in config order), with memory bounded per bucket;
  3. per source: write the shards without the duplicates.
The output depends only on the config and the inputs, not on the number of workers or ranks.
Resume: each step keeps its finished units (parts, solved buckets, written sources) while inputs and
settings are unchanged, so a rerun after kill -9 or a time limit redoes only what was unfinished
and writes byte-identical output.  What grows with the input: the number of units, buckets and
shards (files) and the per-unit statistics; memory per worker does not (one unit in step 1, one
bucket of at most corpus.dedup_max_entries keys in step 2, one unit's duplicates in step 3).
Bad input (invalid bytes, NUL bytes, truncated archives, malformed XML, empty files, huge lines,
missing NAK headers) is skipped with file and line, and counted; when a source yields no text at
all the exit code is 1 and the statistics go to stats-failed.json instead of stats.json.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

from norlm import engines
from norlm.diskspace import preflight_rate
from norlm.errors import StageError, warn
from norlm.layout import layout_of
from norlm.corpus.buckets import bucket_names, prepare_dir, solve_bucket
from norlm.corpus.process import part_paths, process_unit, unit_fingerprint
from norlm.corpus.segment import make_segmenter
from norlm.corpus.shards import write_source
from norlm.corpus.stats import print_table, source_summary
from norlm.corpus.units import plan
from norlm.files import atomic_open, read_json, write_json, write_run_record
from norlm.worker_pool import pool_map


def add_arguments(parser) -> None:
    parser.add_argument("--workers", type=int, default=None,
                        help="processes per rank for reading/segmenting units and writing sources "
                        "(default: run.workers)")
    parser.add_argument("--segmenter", choices=("punkt", "stanza"), default=None,
                        help="sentence segmenter (default: corpus.segmenter; stanza needs models in "
                        "STANZA_RESOURCES_DIR)")
    parser.add_argument("--near-dedup", action="store_true",
                        help="also drop near-duplicate documents (MinHash-LSH over word 5-grams)")
    parser.add_argument("--force", action="store_true", help="rebuild every part and shard even if up to date")


def main(args, cfg) -> int:
    engines.init_light()
    try:
        return _run(args, cfg)
    except Exception as exc:
        if engines.size() > 1:  # the other ranks would wait at the next barrier forever
            import traceback

            traceback.print_exc()
            engines.abort(f"norlm corpus failed: {type(exc).__name__}: {exc}")
        raise


def _settings(args, cfg):
    """The [corpus] section with the command-line overrides, and the worker count."""
    corpus = cfg.corpus
    if args.segmenter:
        corpus = dataclasses.replace(corpus, segmenter=args.segmenter)
    if args.near_dedup:
        corpus = dataclasses.replace(corpus, near_dedup=True)
    if not corpus.sources:
        raise StageError(f"{cfg.source} has no [[corpus.sources]]")
    return corpus, args.workers or cfg.run.workers


def _up_to_date(out: Path, stamp: Path, fingerprint: str) -> bool:
    stats_path = out / "stats.json"
    if not (stats_path.is_file() and stamp.is_file()):
        return False
    old = read_json(stats_path)
    shards = [out / s["file"] for src in old.get("sources", {}).values() for s in src.get("shards", [])]
    if stamp.read_text().strip() != fingerprint or not all(p.is_file() for p in shards):
        return False
    engines.log0(f"norlm corpus: {out} is up to date (use --force to rebuild)")
    if engines.is_root():
        print_table(old)
    return True


def _read_units(units, corpus, seed: int, parts: Path, workers: int, force: bool) -> list[dict]:
    """Step 1, this rank's share of the units, largest first; every unit's stats afterwards."""
    order = sorted(range(len(units)), key=lambda i: (-units[i].size, i))
    jobs = [(units[i], corpus.sources[units[i].source], corpus, corpus.segmenter, seed, str(parts), force)
            for i in engines.split(order)]
    engines.log0(f"norlm corpus: {len(units)} units from {len(corpus.sources)} sources, "
                 f"{engines.size()} rank(s) x {workers} worker(s), segmenter {corpus.segmenter}")
    reused = sum(r["reused"] for r in pool_map(process_unit, jobs, workers, "read+segment"))
    _log_reuse("step 1", reused, len(jobs), "units")
    engines.barrier()
    return [read_json(part_paths(parts, corpus.sources[u.source].name, u)["stats"]) for u in units]


def _log_reuse(step: str, reused: int, total: int, what: str) -> None:
    """One stderr line per rank: how much of this step an earlier (killed) run had already done."""
    print(f"norlm corpus: {step}: rank {engines.rank()}: {reused} of {total} {what} reused from an earlier run",
          file=sys.stderr, flush=True)


def _dedup(units, unit_stats, corpus, parts: Path, workers: int, fingerprint: str, force: bool):
    """Step 2: solve the hash buckets (this rank's share); returns the bucket names and folder."""
    key_files = []
    for g, u in enumerate(units):
        paths = part_paths(parts, corpus.sources[u.source].name, u)
        key_files.append((g, str(paths["lines"]), str(paths["docs"])))
    total_keys = sum(s.get("documents", 0) * corpus.minhash_bands if corpus.near_dedup else 0 for s in unit_stats)
    total_keys += sum(s.get("sentences", 0) for s in unit_stats)
    bits, names = bucket_names(total_keys, corpus.dedup_max_entries)
    dup_dir = parts / "dups"
    if engines.is_root():
        prepare_dir(dup_dir, fingerprint, bits)
    engines.barrier()
    jobs = [(b, bits, key_files, str(dup_dir), names[b], force) for b in engines.split(list(range(1 << bits)))]
    _log_reuse("step 2", sum(pool_map(solve_bucket, jobs, workers, "dedup")), len(jobs), "buckets")
    engines.barrier()
    return names, dup_dir


def _source_done(parts: Path, out: Path, name: str, fingerprint: str) -> bool:
    """A source whose shards were all written by an earlier run with these inputs and settings."""
    path = parts / name / "shards.json"
    if not path.is_file():
        return False
    old = read_json(path)
    return old.get("stamp") == fingerprint and all(
        (out / sh["file"]).is_file() and (out / sh["file"]).stat().st_size == sh["bytes"] for sh in old["shards"])


def _write_sources(units, corpus, parts: Path, out: Path, names, dup_dir: Path, workers: int,
                   fingerprint: str, force: bool) -> None:
    """Step 3: each source's shards (this rank's share), skipping sources already written."""
    unit_source = [u.source for u in units]
    line_files = [str(dup_dir / f"lines-{n}.npy") for n in names]
    doc_files = [str(dup_dir / f"docs-{n}.npy") for n in names] if corpus.near_dedup else None
    shard_bytes = int(corpus.shard_mb * 1_000_000)
    jobs, mine = [], engines.split(list(range(len(corpus.sources))))
    for s_idx in mine:
        name = corpus.sources[s_idx].name
        if not force and _source_done(parts, out, name, fingerprint):
            continue
        mine_units = [(g, u) for g, u in enumerate(units) if u.source == s_idx]
        jobs.append((name, mine_units, unit_source, str(parts), str(out), shard_bytes, line_files, doc_files))
    for result in pool_map(write_source, jobs, workers, "shards"):
        write_json(parts / result["source"] / "shards.json", {**result, "stamp": fingerprint})
    _log_reuse("step 3", len(mine) - len(jobs), len(mine), "sources")
    engines.barrier()


def _run(args, cfg) -> int:
    corpus, workers = _settings(args, cfg)
    out = layout_of(cfg).corpus_dir
    parts = out / "parts"
    units, missing = plan(corpus.sources, corpus.unit_mb)  # PlanError, SegmenterError: StageErrors the CLI reports
    for lang in sorted({s.lang for s in corpus.sources if s.segment}):
        make_segmenter(corpus.segmenter, lang, corpus.stanza_batch_size)
    seed = cfg.run.seed
    fps = [unit_fingerprint(u, corpus.sources[u.source], corpus, corpus.segmenter, seed) for u in units]
    settings = json.dumps([fps, dataclasses.asdict(corpus)], sort_keys=True, default=str)
    fingerprint = hashlib.sha256(settings.encode()).hexdigest()
    stamp = parts / "fingerprint.txt"  # inputs (sizes, mtimes) + settings of the last complete run
    if not args.force and _up_to_date(out, stamp, fingerprint):
        return 0

    preflight_rate(out, ("corpus",), sum(u.size for u in units), args.force)
    engines.barrier()
    if engines.is_root():
        stamp.unlink(missing_ok=True)
    unit_stats = _read_units(units, corpus, seed, parts, workers, args.force)
    names, dup_dir = _dedup(units, unit_stats, corpus, parts, workers, fingerprint, args.force)
    _write_sources(units, corpus, parts, out, names, dup_dir, workers, fingerprint, args.force)
    code = _finish(cfg, corpus, units, unit_stats, missing, out, parts, stamp, fingerprint, workers) \
        if engines.is_root() else 0
    return int(engines.broadcast_object(code))


def _finish(cfg, corpus, units, unit_stats, missing, out: Path, parts: Path, stamp: Path, fingerprint: str,
            workers: int) -> int:
    """Root rank: stats.json (the completion file, last) or stats-failed.json when a source is empty."""
    summary = {"segmenter": corpus.segmenter, "sources": {}}
    for s_idx, source in enumerate(corpus.sources):
        written = read_json(parts / source.name / "shards.json")
        written.pop("stamp", None)
        mine_stats = [s for u, s in zip(units, unit_stats) if u.source == s_idx]
        summary["sources"][source.name] = source_summary(source, mine_stats, written, missing[source.name])
    empty = [name for name, s in summary["sources"].items() if s["sentences"] == 0]
    summary["empty_sources"] = empty
    summary["total"] = {k: sum(s[k] for s in summary["sources"].values())
                        for k in ("documents", "sentences", "words", "chars", "duplicates_within",
                                  "duplicates_across", "near_duplicate_documents")}
    write_run_record(out, cfg, "corpus", workers=workers, ranks=engines.size(), segmenter=corpus.segmenter)
    current = {sh["file"] for src in summary["sources"].values() for sh in src["shards"]}
    for stale in out.glob("*-[0-9][0-9][0-9][0-9].txt.gz"):  # shards of sources no longer configured
        if stale.name not in current:
            stale.unlink()
    print_table(summary)
    failed_path = out / "stats-failed.json"
    stats_path = out / "stats.json"
    if empty:  # no completion file: make must not treat a corpus with a dead source as built
        stats_path.unlink(missing_ok=True)
        write_json(failed_path, summary)
        for name in empty:
            warn(f"source '{name}' yielded no text (see bad_input in {failed_path})")
        return 1
    failed_path.unlink(missing_ok=True)
    with atomic_open(stamp, "w") as fh:
        fh.write(fingerprint + "\n")
    write_json(stats_path, summary)
    return 0
