"""Raw Wikipedia / Norsk Aviskorpus / plain / NDT text -> clean, deduplicated, sentence-segmented shards.

Writes WORK/corpus/<source>-NNNN.txt.gz (one sentence per line, a blank line between documents,
UTF-8) and, last, WORK/corpus/stats.json with per-source documents, sentences, words, characters,
duplicates removed and records dropped by reason; the same table is printed.

Three steps, each split over --workers processes and over MPI ranks (`mpirun -np N norlm corpus`):
  1. per input unit (a file or an NDT group): read, clean, segment, filter -> parts/ (reused
     on reruns while inputs and settings are unchanged);
  2. per hash bucket: find sentences (>= 5 words) and, with --near-dedup, documents already seen
     at an earlier position (sources in config order), with memory bounded per bucket;
  3. per source: write the shards without the duplicates.
The output depends only on the config and the inputs, not on the number of workers or ranks.
Bad input (invalid bytes, NUL bytes, truncated archives, malformed XML, empty files, huge lines,
missing NAK headers) is skipped with file and line, and counted; when a source yields no text at
all the exit code is 1 and the statistics go to stats-failed.json instead of stats.json.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
from pathlib import Path

import numpy as np
from tqdm import tqdm

from norlm import engines
from norlm.errors import StageError, warn
from norlm.layout import layout_of
from norlm.corpus.dedup import bucket_bits, bucket_of, later_occurrences, position
from norlm.corpus.process import part_paths, process_unit, unit_fingerprint
from norlm.corpus.segment import make_segmenter
from norlm.corpus.shards import Duplicates, write_source
from norlm.corpus.stats import print_table, source_summary
from norlm.corpus.units import plan
from norlm.files import atomic_open, read_json, write_json, write_run_record


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


def _pool_map(fn, jobs: list, workers: int, desc: str):
    """Results of fn over jobs, in a process pool when workers > 1 (progress bar on rank 0)."""
    bar = dict(total=len(jobs), desc=desc, unit="job", disable=not engines.is_root() or None, leave=False)
    if workers <= 1 or len(jobs) <= 1:
        return [fn(job) for job in tqdm(jobs, **bar)]
    method = "fork" if not engines.launched() else "spawn"
    with multiprocessing.get_context(method).Pool(min(workers, len(jobs))) as pool:
        return list(tqdm(pool.imap(fn, jobs), **bar))


def _dedup_bucket(job: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Duplicate (position, first position) pairs of lines and of documents in one hash bucket."""
    bucket, bits, key_files = job
    lk, lp, dk, dp = [], [], [], []
    for g, path in key_files:
        with np.load(path) as z:
            keys, idx, docs = z["line_keys"], z["line_idx"], z["doc_keys"]
        mask = bucket_of(keys, bits) == bucket
        lk.append(keys[mask])
        lp.append(position(g, idx[mask]))
        if docs.size:
            flat = docs.reshape(-1)
            doc_idx = np.repeat(np.arange(docs.shape[0]), docs.shape[1])
            mask = bucket_of(flat, bits) == bucket
            dk.append(flat[mask])
            dp.append(position(g, doc_idx[mask]))
    def cat(xs, dt):
        return np.concatenate(xs) if xs else np.zeros(0, dtype=dt)

    line_dup, line_first = later_occurrences(cat(lk, np.uint64), cat(lp, np.int64))
    doc_dup, doc_first = later_occurrences(cat(dk, np.uint64), cat(dp, np.int64))
    return line_dup, line_first, doc_dup, doc_first


def _save_pairs(path: Path, a: np.ndarray, b: np.ndarray) -> None:
    with atomic_open(path, "wb") as fh:
        np.save(fh, np.stack([a, b]).astype(np.int64))


def _solve_bucket(job: tuple) -> int:
    """Worker entry point: solve one bucket and save its line and document duplicates."""
    bucket, bits, key_files, dup_dir, name = job
    line_dup, line_first, doc_dup, doc_first = _dedup_bucket((bucket, bits, key_files))
    _save_pairs(Path(dup_dir) / f"lines-{name}.npy", line_dup, line_first)
    _save_pairs(Path(dup_dir) / f"docs-{name}.npy", doc_dup, doc_first)
    return len(line_dup)


def _load_pairs(paths: list[Path]) -> Duplicates:
    arrays = [np.load(p) for p in paths]
    both = np.concatenate(arrays, axis=1) if arrays else np.zeros((2, 0), dtype=np.int64)
    return Duplicates(both[0], both[1])


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


def _run(args, cfg) -> int:
    corpus = cfg.corpus
    if args.segmenter:
        corpus = dataclasses.replace(corpus, segmenter=args.segmenter)
    if args.near_dedup:
        corpus = dataclasses.replace(corpus, near_dedup=True)
    workers = args.workers or cfg.run.workers
    if not corpus.sources:
        raise StageError(f"{cfg.source} has no [[corpus.sources]]")
    out = layout_of(cfg).corpus_dir
    parts = out / "parts"
    units, missing = plan(corpus.sources)  # PlanError, SegmenterError: StageErrors the CLI reports
    for lang in sorted({s.lang for s in corpus.sources if s.segment}):
        make_segmenter(corpus.segmenter, lang, corpus.stanza_batch_size)
    seed = cfg.run.seed
    fps = [unit_fingerprint(u, corpus.sources[u.source], corpus, corpus.segmenter, seed) for u in units]
    settings = json.dumps([fps, dataclasses.asdict(corpus)], sort_keys=True, default=str)
    fingerprint = hashlib.sha256(settings.encode()).hexdigest()
    stats_path = out / "stats.json"
    stamp = parts / "fingerprint.txt"  # inputs (sizes, mtimes) + settings of the last complete run
    if not args.force and stats_path.is_file() and stamp.is_file():
        old = read_json(stats_path)
        shards = [out / s["file"] for src in old.get("sources", {}).values() for s in src.get("shards", [])]
        if stamp.read_text().strip() == fingerprint and all(p.is_file() for p in shards):
            engines.log0(f"norlm corpus: {out} is up to date (use --force to rebuild)")
            if engines.is_root():
                print_table(old)
            return 0

    engines.barrier()
    if engines.is_root():
        stamp.unlink(missing_ok=True)
    # step 1: units -> parts, this rank's share, largest first
    order = sorted(range(len(units)), key=lambda i: (-units[i].size, i))
    mine = engines.split(order)
    jobs = [(units[i], corpus.sources[units[i].source], corpus, corpus.segmenter, seed, str(parts), args.force)
            for i in mine]
    engines.log0(f"norlm corpus: {len(units)} units from {len(corpus.sources)} sources, "
              f"{engines.size()} rank(s) x {workers} worker(s), segmenter {corpus.segmenter}")
    _pool_map(process_unit, jobs, workers, "read+segment")
    engines.barrier()
    unit_stats = [read_json(part_paths(parts, corpus.sources[u.source].name, u)["stats"]) for u in units]

    # step 2: dedup by hash bucket
    key_files = [(g, str(part_paths(parts, corpus.sources[u.source].name, u)["keys"])) for g, u in enumerate(units)]
    total_keys = sum(s.get("documents", 0) * corpus.minhash_bands if corpus.near_dedup else 0 for s in unit_stats)
    total_keys += sum(s.get("sentences", 0) for s in unit_stats)
    bits = bucket_bits(total_keys, corpus.dedup_max_entries)
    dup_dir = parts / "dups"
    names = [f"{bits:02d}-{b:05d}" for b in range(1 << bits)]
    bucket_jobs = [(b, bits, key_files, str(dup_dir), names[b]) for b in engines.split(list(range(1 << bits)))]
    _pool_map(_solve_bucket, bucket_jobs, workers, "dedup")
    engines.barrier()

    # step 3: per source -> shards
    line_dups = _load_pairs([dup_dir / f"lines-{n}.npy" for n in names])
    doc_dups = _load_pairs([dup_dir / f"docs-{n}.npy" for n in names]) if corpus.near_dedup else None
    unit_source = [u.source for u in units]
    shard_bytes = int(corpus.shard_mb * 1_000_000)
    source_jobs = []
    for s_idx in engines.split(list(range(len(corpus.sources)))):
        name = corpus.sources[s_idx].name
        mine_units = [(g, u) for g, u in enumerate(units) if u.source == s_idx]
        source_jobs.append((name, mine_units, unit_source, str(parts), str(out), shard_bytes, line_dups, doc_dups))
    for result in _pool_map(write_source, source_jobs, workers, "shards"):
        write_json(parts / result["source"] / "shards.json", result)
    engines.barrier()

    code = 0
    if engines.is_root():
        summary = {"segmenter": corpus.segmenter, "sources": {}}
        for s_idx, source in enumerate(corpus.sources):
            written = read_json(parts / source.name / "shards.json")
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
        if empty:  # no completion file: make must not treat a corpus with a dead source as built
            stats_path.unlink(missing_ok=True)
            write_json(failed_path, summary)
            for name in empty:
                warn(f"source '{name}' yielded no text (see bad_input in {failed_path})")
            code = 1
        else:
            failed_path.unlink(missing_ok=True)
            with atomic_open(stamp, "w") as fh:
                fh.write(fingerprint + "\n")
            write_json(stats_path, summary)
    return int(engines.broadcast_object(code))
