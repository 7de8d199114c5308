"""Corpus shards -> NVIDIA-schema BERT pretraining TFRecords for phase 1 or 2 (bert-recipe §1).

Reads WORK/corpus/*.txt.gz (one sentence per line, blank line between documents) and the
vocabulary stage's WORK/vocab/tokenizer.json, and writes WORK/bert/tfrecords/phase<N>/NNNN.tfrecord
plus manifest.json (instance counts, seeds, settings, vocabulary checksum), which is written last.

Each input shard is processed on its own: tokenised in batches (Rust tokenizer), paired into
instances by vectorised numpy code for `dupe_factor` passes, shuffled, masked and written in
batches, dealt round-robin over `bert_data.files_per_shard` output files.  Input shard i owns the
output files i*files_per_shard ... (i+1)*files_per_shard-1, and its randomness is derived from
(run.seed, i, pass / batch), so the files do not depend on --workers or on the number of MPI ranks
(under mpirun/srun, ranks take disjoint shards).  Memory: one shard's token ids, ~40 bytes per
instance (offsets into those ids) and one batch of 2,048 encoded instances; never dupe_factor x the
instances themselves.

Shuffling: the reference shuffles all instances of all files it was given at once; NorBERT ran it
per corpus shard, so its shuffle was per shard, which is exactly what this stage does (a full
permutation of each shard's instances).  Across shards, training interleaves files and shuffles
again (norlm.bert.train.input), so no sequence of batches follows corpus order.

A rerun skips shards whose files and record (shards/SSSS.json) match the current settings; --force
redoes everything.  Differences from the reference that do not change the distribution of the data:
document order is not shuffled (it only changes which random number goes where), random draws
come from numpy's PCG64 instead of Python's Mersenne Twister, and a random-next document is
drawn from the same shard.
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from norlm import engines
from norlm.bert.data.manifest import PretrainingManifest, VocabRecord, complete_entries, describe_file, files_intact
from norlm.config import to_dict
from norlm.corpus.shard_check import check_shards
from norlm.diskspace import preflight_rate, text_bytes
from norlm.errors import StageError, StageFailure, warn
from norlm.layout import Layout, layout_of, repo_glob_bases, repo_path
from norlm.files import atomic_path, read_json, sha256_file, write_json, write_run_record

FORMAT_VERSION = 1
BATCH = 2048  # instances masked and encoded together (part of the seed derivation, so fixed)
STREAM_PASS, STREAM_SHUFFLE, STREAM_MASK = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phase", type=int, choices=(1, 2), default=1,
                        help="1: [bert_data.phase1] settings (NorBERT: seq 128, 20 predictions, dupe 10); "
                             "2: [bert_data.phase2] (seq 512, 77, dupe 6)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes per rank (default: run.workers); the output does not depend on it")
    parser.add_argument("--force", action="store_true", help="rebuild every file, even those already complete")
    parser.add_argument("--shard-index", type=int, default=0,
                        help="with --num-shards: build only input shards i with i %% num-shards == shard-index "
                             "(one task of a Slurm job array); the manifest is left to a final run without it")
    parser.add_argument("--num-shards", type=int, default=1, help="number of job-array tasks (default 1: all shards)")


def rng_for(seed: int, shard: int, stream: int, n: int) -> np.random.Generator:
    """The generator of one shard's pass (stream 0), shuffle (1) or masking batch (2)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(shard, stream, n)))


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to build one shard's files (picklable)."""

    inputs: tuple[str, ...]
    out_dir: str
    vocab_path: str
    vocab_sha256: str
    seed: int
    max_seq_length: int
    max_predictions_per_seq: int
    dupe_factor: int
    masked_lm_prob: float
    short_seq_prob: float
    whole_word_mask: bool
    files_per_shard: int
    force: bool = False

    def output_names(self, shard: int) -> list[str]:
        k = self.files_per_shard
        return [f"{shard * k + j:04d}.tfrecord" for j in range(k)]

    def record_path(self, shard: int) -> Path:
        return Path(self.out_dir) / "shards" / f"{shard:04d}.json"

    def key(self, shard: int) -> dict:
        stat = os.stat(self.inputs[shard])
        settings = {k: v for k, v in asdict(self).items() if k not in ("inputs", "out_dir", "force", "vocab_path")}
        return {"format": FORMAT_VERSION, "batch": BATCH, "shard": shard, "input": self.inputs[shard],
                "input_size": stat.st_size, "input_mtime_ns": stat.st_mtime_ns, **settings}


# --------------------------------------------------------------------------- vocabulary

class Vocab:
    """The tokenizer plus the id tables masking needs."""

    def __init__(self, path: str):
        from norlm.vocab.tokenizer import build_tokenizer, load_tokenizer

        self.tokenizer = load_tokenizer(path) if path.endswith(".json") else build_tokenizer(path)
        vocab = self.tokenizer.get_vocab(with_added_tokens=True)
        self.size = self.tokenizer.get_vocab_size(with_added_tokens=True)
        ids = {}
        for name in ("[CLS]", "[SEP]", "[MASK]"):
            if name not in vocab:
                raise StageError(f"{path}: vocabulary has no {name} token")
            ids[name] = vocab[name]
        self.cls_id, self.sep_id, self.mask_id = ids["[CLS]"], ids["[SEP]"], ids["[MASK]"]
        # the reference draws from the vocabulary's distinct entries (shadowed duplicate lines excluded)
        shadowed = [i for t, i in vocab.items() if t[:2] == "[n" and t.startswith("[norlm-shadowed-")]
        keep = np.ones(self.size, bool)
        keep[shadowed] = False
        self.random_ids = np.flatnonzero(keep).astype(np.int32)
        self._vocab = vocab

    @property
    def continuation(self) -> np.ndarray:
        """Boolean per id: the entry is a `##` continuation piece (whole-word masking)."""
        cont = np.zeros(self.size, bool)
        cont[[i for t, i in self._vocab.items() if t.startswith("##")]] = True
        return cont


_VOCABS: dict[str, Vocab] = {}


def _vocab(path: str) -> Vocab:
    if path not in _VOCABS:
        _VOCABS[path] = Vocab(path)
    return _VOCABS[path]


# --------------------------------------------------------------------------- one shard

def shard_batches(job: Job, shard: int):
    """Yield (tokens, pairs) of a shard, then (first instance index, features) per batch in file-dealing order."""
    from norlm.bert.data.instances import Pairs, assemble, make_pairs_passes
    from norlm.bert.data.masking import mask_batch
    from norlm.bert.data.shard_tokens import read_shard

    vocab = _vocab(job.vocab_path)
    tokens = read_shard(job.inputs[shard], vocab.tokenizer)
    # passes share one vectorised loop; its up-front draws (32 bytes per sentence and pass) are
    # kept within max(64 MB, the shard's token ids) by grouping passes
    per_pass = 32 * max(1, tokens.num_sentences)
    group = int(np.clip(max(64 << 20, 4 * len(tokens.tokens)) // per_pass, 1, max(1, job.dupe_factor)))
    rngs = [rng_for(job.seed, shard, STREAM_PASS, p) for p in range(job.dupe_factor)]
    pairs = Pairs.concat([make_pairs_passes(tokens, job.max_seq_length, job.short_seq_prob, rngs[i:i + group])
                          for i in range(0, job.dupe_factor, group)])
    yield tokens, pairs
    order = rng_for(job.seed, shard, STREAM_SHUFFLE, 0).permutation(len(pairs))
    continuation = vocab.continuation if job.whole_word_mask else None
    for b, start in enumerate(range(0, len(pairs), BATCH)):
        batch = pairs.take(order[start:start + BATCH])
        ids, input_mask, segment_ids, lengths = assemble(tokens.tokens, batch, job.max_seq_length,
                                                         vocab.cls_id, vocab.sep_id)
        positions, label_ids, weights = mask_batch(
            ids, lengths, masked_lm_prob=job.masked_lm_prob, max_predictions=job.max_predictions_per_seq,
            cls_id=vocab.cls_id, sep_id=vocab.sep_id, mask_id=vocab.mask_id, random_ids=vocab.random_ids,
            rng=rng_for(job.seed, shard, STREAM_MASK, b), continuation=continuation)
        yield start, {"input_ids": ids, "input_mask": input_mask, "segment_ids": segment_ids,
                      "masked_lm_positions": positions, "masked_lm_ids": label_ids, "masked_lm_weights": weights,
                      "next_sentence_labels": batch.is_random_next.astype(np.int32)}


def build_shard(job: Job, shard: int) -> dict:
    """Write the files of one input shard (or skip them if already complete); return its record."""
    from norlm.bert.data.tfrecord import records_bytes

    out_dir = Path(job.out_dir)
    names = job.output_names(shard)
    key = job.key(shard)
    record_path = job.record_path(shard)
    if not job.force and record_path.exists():
        record = read_json(record_path)
        if record.get("key") == key and files_intact(out_dir, names, record.get("files", ())):
            record["skipped"] = True
            return record

    started = time.time()
    k = job.files_per_shard
    counts = [0] * k
    masked = 0
    with contextlib.ExitStack() as stack:
        tmp_paths = [stack.enter_context(atomic_path(out_dir / n)) for n in names]
        files = [stack.enter_context(open(p, "wb")) for p in tmp_paths]
        batches = shard_batches(job, shard)
        tokens, pairs = next(batches)
        for start, features in batches:
            masked += int(features["masked_lm_weights"].sum())
            # instance i of the shard goes to file i % k: group the batch's rows by file, keeping their order
            dest = (start + np.arange(len(features["input_ids"]))) % k
            order = np.argsort(dest, kind="stable")
            data, offsets = records_bytes({name: arr[order] for name, arr in features.items()})
            bounds = np.searchsorted(dest[order], np.arange(k + 1))
            for j, fh in enumerate(files):
                counts[j] += int(bounds[j + 1] - bounds[j])
                fh.write(data[offsets[bounds[j]]:offsets[bounds[j + 1]]].tobytes())
    n = len(pairs)
    record = {
        "key": key,
        "input": job.inputs[shard],
        "input_sha256": sha256_file(job.inputs[shard]),
        "files": [describe_file(out_dir / name, c) for name, c in zip(names, counts)],
        "instances": n,
        "text": tokens.stats,
        "random_next": int(pairs.is_random_next.sum()),
        "single_sentence_chunks": int(pairs.single_chunk.sum()),
        "same_document_fallbacks": int(pairs.same_doc.sum()),
        "short_target_documents": pairs.short_docs,
        "document_passes": pairs.doc_passes,
        "masked_positions": masked,
        "tokens_in_instances": int((pairs.a_len.astype(np.int64) + pairs.b_len + 3).sum()),
        "seeds": {"global": job.seed, "derivation": "numpy SeedSequence(run.seed, spawn_key=(shard, stream, n)); "
                  "stream 0 = pairing pass n, 1 = shuffle, 2 = masking batch n of 4096"},
        "seconds": round(time.time() - started, 3),
    }
    write_json(record_path, record)
    record["skipped"] = False
    return record


def _build_one(args: tuple[Job, int]) -> dict:
    return build_shard(*args)


# --------------------------------------------------------------------------- the stage

def find_inputs(cfg, lay: Layout) -> list[str]:
    pattern = cfg.bert_data.corpus_glob
    if not pattern:
        return [str(p) for p in lay.corpus_shards()]
    for base in repo_glob_bases(pattern):
        found = sorted(glob.glob(str(base)))
        if found:
            return found
    return []


def find_vocab(cfg, lay: Layout) -> str:
    if cfg.bert_data.vocab:
        path = repo_path(cfg.bert_data.vocab)
        if not path.exists():
            raise StageError(f"bert_data.vocab = {cfg.bert_data.vocab}: no such file")
        return str(path)
    for candidate in (lay.tokenizer_json, lay.vocab_txt):
        if candidate.exists():
            return str(candidate)
    raise StageError(f"no vocabulary in {lay.vocab_dir} (run `make vocab` first)")


def run_shards(job: Job, shards: list[int], workers: int) -> list[dict]:
    from tqdm import tqdm

    tasks = [(job, s) for s in shards]
    bar = dict(total=len(tasks), desc=f"bert-data shards (rank {engines.rank()})", unit="shard",
               disable=len(tasks) < 2, file=sys.stderr)
    if workers > 1 and len(tasks) > 1:
        import multiprocessing as mp

        from norlm.bert.data.shard_tokens import encoder_for

        encoder_for(_vocab(job.vocab_path).tokenizer)  # load once; forked workers inherit it
        with mp.get_context("fork").Pool(min(workers, len(tasks))) as pool:
            return list(tqdm(pool.imap(_build_one, tasks), **bar))
    return [_build_one(t) for t in tqdm(tasks, **bar)]


def write_manifest(job: Job, cfg, phase: int, records: list[dict], vocab: Vocab) -> PretrainingManifest:
    out_dir = Path(job.out_dir)
    expected = {f["name"] for r in records for f in r["files"]}
    for stale in out_dir.glob("*.tfrecord"):
        if stale.name not in expected:
            stale.unlink()
    total = sum(r["instances"] for r in records)
    keys = ("random_next", "single_sentence_chunks", "same_document_fallbacks", "short_target_documents",
            "document_passes", "masked_positions", "tokens_in_instances")
    text_keys = ("lines", "bad_lines", "sentences", "empty_sentences", "documents", "tokens")
    vocab_txt = Path(job.vocab_path).parent / "vocab.txt"
    has_txt = vocab_txt.exists()
    manifest = PretrainingManifest(
        phase=phase, instances=total,
        files=complete_entries(out_dir, ({**f, "shard": r["key"]["shard"]} for r in records for f in r["files"])),
        max_seq_length=job.max_seq_length, max_predictions_per_seq=job.max_predictions_per_seq,
        dupe_factor=job.dupe_factor, masked_lm_prob=job.masked_lm_prob, short_seq_prob=job.short_seq_prob,
        whole_word_mask=job.whole_word_mask, files_per_shard=job.files_per_shard, seed=job.seed,
        seed_derivation=records[0]["seeds"]["derivation"] if records else "",
        vocab=VocabRecord(path=job.vocab_path, sha256=job.vocab_sha256, size=vocab.size,
                          vocab_txt=str(vocab_txt) if has_txt else None,
                          vocab_txt_sha256=sha256_file(vocab_txt) if has_txt else None),
        inputs=tuple({"path": r["input"], "sha256": r["input_sha256"], **r["text"]} for r in records),
        stats={**{k: sum(r[k] for r in records) for k in keys},
               **{k: sum(r["text"][k] for r in records) for k in text_keys}},
        config=to_dict(cfg.bert_data),
    )
    write_run_record(out_dir, cfg, "bert-data", phase=phase)
    manifest.write(out_dir / "manifest.json")
    return manifest


def main(args: argparse.Namespace, cfg) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # parallelism comes from --workers and ranks
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    engines.init_light()
    settings = cfg.bert_data
    phase = settings.phase(args.phase)
    lay = layout_of(cfg)
    inputs = find_inputs(cfg, lay)
    if not inputs:
        raise StageError(f"no corpus shards match {settings.corpus_glob or lay.corpus_dir / '*.txt.gz'} "
                         "(run `make corpus` first)", exit_code=1)
    vocab_path = find_vocab(cfg, lay)
    out_dir = lay.bert_records(args.phase)
    job = Job(inputs=tuple(inputs), out_dir=str(out_dir), vocab_path=vocab_path, vocab_sha256=sha256_file(vocab_path),
              seed=cfg.run.seed, max_seq_length=phase.max_seq_length,
              max_predictions_per_seq=phase.max_predictions_per_seq, dupe_factor=phase.dupe_factor,
              masked_lm_prob=settings.masked_lm_prob, short_seq_prob=settings.short_seq_prob,
              whole_word_mask=settings.whole_word_mask, files_per_shard=settings.files_per_shard, force=args.force)
    manifest_path = lay.bert_manifest(args.phase)
    if not 0 <= args.shard_index < max(1, args.num_shards):
        raise StageError(f"--shard-index {args.shard_index} is outside 0..{args.num_shards - 1}")
    array_task = args.num_shards > 1
    selected = [i for i in range(len(inputs)) if i % max(1, args.num_shards) == args.shard_index]
    check_shards([Path(inputs[i]) for i in selected])  # against corpus/stats.json, where the corpus stage wrote one
    preflight_rate(out_dir, (f"bert-data-phase{args.phase}", "bert-data-phase1"),
                   text_bytes([inputs[i] for i in selected]), args.force, phase.dupe_factor)
    if engines.is_root() and manifest_path.exists():
        manifest_path.unlink()  # the completion file goes away until this run has finished
    workers = args.workers if args.workers is not None else cfg.run.workers
    engines.log0(f"bert-data phase {args.phase}: {len(inputs)} shard(s) -> {out_dir} "
              f"(seq {job.max_seq_length}, {job.max_predictions_per_seq} predictions, dupe {job.dupe_factor}, "
              f"{engines.size()} rank(s) x {workers} worker(s))")
    started = time.time()
    mine = engines.split(selected)
    records = run_shards(job, mine, max(1, workers))
    if array_task:
        engines.barrier()
        engines.log0(f"bert-data phase {args.phase}: array task {args.shard_index}/{args.num_shards} built "
                  f"{len(selected)} input shard(s); a final run without --num-shards writes {manifest_path}")
        return 0
    gathered = engines.allgather_object(records)
    engines.barrier()
    if not engines.is_root():
        return 0
    records = sorted((r for part in gathered for r in part), key=lambda r: r["key"]["shard"])
    for r in records:
        bad = r["text"]["bad_lines"]
        if bad:
            warn(f"{r['input']}: {bad} undecodable line(s) skipped")
    total = sum(r["instances"] for r in records)
    if total == 0:
        raise StageFailure(f"no instances could be made from {len(inputs)} shard(s) (no documents with text?)")
    manifest = write_manifest(job, cfg, args.phase, records, _vocab(vocab_path))
    skipped = sum(r.get("skipped", False) for r in records)
    stats = manifest.stats
    print(f"bert-data phase {args.phase}: {total} instances in {len(manifest.files)} file(s) "
          f"({skipped} shard(s) already complete), random next {stats['random_next'] / total:.3f}, "
          f"{time.time() - started:.1f} s -> {manifest_path}")
    return 0
