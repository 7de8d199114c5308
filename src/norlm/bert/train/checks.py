"""Before training: what the data stage wrote decides the shapes; everything else is checked against it.

The manifest of bert-data gives sequence length, predictions per sequence and the vocabulary (size
and sha256).  The model config must agree with it, the vocab.txt training embeds must be the one
the records were tokenised with, and the config's [bert_data.phaseN] values, if they differ, mean
the records are stale.  Every refusal names both sides.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from norlm.bert.data.manifest import FEATURES, TOKEN_ID_FEATURES, PretrainingManifest, read_manifest
from norlm.errors import StageError
from norlm.files import sha256_file
from norlm.layout import repo_path


@dataclass(frozen=True)
class TrainingInput:
    """The shapes training uses and where they came from."""

    files: list[str]
    max_seq_length: int
    max_predictions_per_seq: int
    vocab_size: int | None  # None when there is no manifest (foreign records)
    manifest: PretrainingManifest | None
    manifest_path: Path


def _record_features(raw, path: str, number: int):
    """The features of one serialized record, refused unless it has the whole schema."""
    import tensorflow as tf

    feats = tf.train.Example.FromString(raw.numpy()).features.feature
    missing = [k for k in FEATURES if k not in feats]
    if missing:
        raise StageError(f"{path}: record {number} lacks feature(s) {', '.join(missing)} "
                         "(not an NVIDIA-schema pretraining record)")
    return feats


def record_shapes(path: str) -> tuple[int, int]:
    """(max_seq_length, max_predictions_per_seq) of a file's first record."""
    import tensorflow as tf

    for raw in tf.data.TFRecordDataset(path).take(1):
        feats = _record_features(raw, path, 1)
        return len(feats["input_ids"].int64_list.value), len(feats["masked_lm_positions"].int64_list.value)
    raise StageError(f"{path}: no records: nothing to train on")


def training_input(in_dir: Path, phase_data, phase: int) -> TrainingInput:
    """Files and shapes of one phase's records, from the manifest (else from the first record)."""
    from norlm.errors import warn

    files = sorted(str(p) for p in Path(in_dir).glob("*.tfrecord"))
    if not files:
        raise StageError(f"{in_dir}: no *.tfrecord files (run `norlm bert-data --phase {phase}` first)")
    manifest_path = Path(in_dir) / "manifest.json"
    if not manifest_path.exists():
        seq, pred = record_shapes(files[0])
        warn(f"{manifest_path} not found: sequence length {seq} and {pred} predictions read from {files[0]}; "
             "the vocabulary cannot be checked against the records' own")
        return TrainingInput(files, seq, pred, None, None, manifest_path)
    manifest = read_manifest(manifest_path)
    for key, have in (("max_seq_length", manifest.max_seq_length),
                      ("max_predictions_per_seq", manifest.max_predictions_per_seq)):
        want = getattr(phase_data, key)
        if want != have:
            raise StageError(f"{key} mismatch: {manifest_path} says {have}, the config's "
                             f"[bert_data.phase{phase}] says {want}: rebuild the records "
                             f"(`norlm bert-data --phase {phase}`) or drop the override")
    return TrainingInput(files, manifest.max_seq_length, manifest.max_predictions_per_seq, manifest.vocab_size,
                         manifest, manifest_path)


def check_vocab_file(data: TrainingInput, vocab_path: Path) -> None:
    """The vocab.txt that training embeds must be byte-identical to the one the records used."""
    if data.manifest is None or not vocab_path.exists():
        return
    record = data.manifest.vocab
    want = record.vocab_txt_sha256 or (record.sha256 if record.path.endswith(".txt") else None)
    if want is None:
        return
    have = sha256_file(vocab_path)
    if have != want:
        made_with = record.vocab_txt or record.path
        raise StageError(f"vocabulary mismatch: {vocab_path} (sha256 {have[:12]}...) is not the vocabulary "
                         f"{data.manifest_path} was built with ({made_with}, sha256 {want[:12]}...): "
                         "token ids would not match; rebuild the records or use that vocab.txt")


def resolve_model_config(cfg, data: TrainingInput, vocab_path: Path | None):
    """The effective BertConfig: the JSON, its vocab_size from the manifest or checked against it."""
    from norlm.bert.model import BertConfig
    from norlm.vocab.vocab_file import vocab_size

    path = repo_path(cfg.bert.model_config)
    if not path.exists():
        raise StageError(f"bert.model_config = {cfg.bert.model_config}: no such file")
    bert_cfg = BertConfig.from_json(path)
    if data.vocab_size is not None:
        size, source = data.vocab_size, str(data.manifest_path)
    elif vocab_path is not None and vocab_path.exists():
        size, source = vocab_size(vocab_path), str(vocab_path)
    else:
        size, source = None, None
    if cfg.bert.vocab_size_from == "vocab":
        if size is None:
            raise StageError(f"bert.vocab_size_from = 'vocab' but there is no manifest and {vocab_path} does not exist")
        return bert_cfg.replace(vocab_size=size), path
    if bert_cfg.vocab_size <= 0:
        raise StageError(f"{path}: vocab_size is {bert_cfg.vocab_size}; set it or use bert.vocab_size_from='vocab'")
    if size is not None and size != bert_cfg.vocab_size:
        raise StageError(f"vocab_size mismatch: {path} says vocab_size {bert_cfg.vocab_size} but {source} has "
                         f"{size} entries")
    return bert_cfg, path


def check_records(bert_cfg, data: TrainingInput, config_path: Path, limit: int = 256) -> dict:
    """Read the first records: stored lengths must match, token ids must fit the embedding."""
    import numpy as np
    import tensorflow as tf

    from norlm.bert.train.input import data_loss_text

    seq, pred = data.max_seq_length, data.max_predictions_per_seq
    if seq > bert_cfg.max_position_embeddings:
        raise StageError(f"max_seq_length {seq} exceeds max_position_embeddings "
                         f"{bert_cfg.max_position_embeddings} of {config_path}")
    max_id, count = -1, 0
    for path in data.files:
        try:
            for raw in tf.data.TFRecordDataset(path).take(limit - count):
                feats = _record_features(raw, path, count + 1)
                shape = (len(feats["input_ids"].int64_list.value),
                         len(feats["masked_lm_positions"].int64_list.value))
                if shape != (seq, pred):
                    raise StageError(f"{path}: record {count + 1} has max_seq_length {shape[0]} and "
                                     f"max_predictions_per_seq {shape[1]}, but {data.manifest_path} says {seq} "
                                     f"and {pred}")
                for name in TOKEN_ID_FEATURES:
                    max_id = max(max_id, int(np.max(feats[name].int64_list.value, initial=0)))
                count += 1
        except tf.errors.DataLossError as exc:
            raise StageError(f"{path}: damaged TFRecord ({data_loss_text(exc)}); rebuild it with `norlm bert-data`"
                             ) from None
        if count >= limit:
            break
    if count == 0:
        raise StageError(f"no records in {', '.join(data.files[:3])}: nothing to train on")
    if max_id >= bert_cfg.vocab_size:
        raise StageError(f"vocab_size mismatch: the TFRecords contain token id {max_id} but the model "
                         f"has vocab_size {bert_cfg.vocab_size} ({config_path})")
    return {"records_checked": count, "max_token_id": max_id}


def check_files(data: TrainingInput, phase: int, full: bool = False) -> str:
    """Every TFRecord file against the manifest before training; refuse naming the damaged ones.

    Default: sizes (one stat per file; a truncated file is otherwise read to its last whole record
    without any error).  `full` (--verify-data sha256) also hashes every byte, ~2 s per GB.
    """
    from norlm.bert.data.manifest import file_problems
    from norlm.errors import warn

    if data.manifest is None or not data.manifest.files:
        return "not checked (no file list in the manifest)"
    if not any("bytes" in e for e in data.manifest.files):
        warn(f"{data.manifest_path} records no file sizes (an older bert-data): the TFRecord files are checked "
             f"by name only; rerun `norlm bert-data --phase {phase}` to record them")
    problems = file_problems(data.manifest, data.manifest_path.parent, data.files, full=full)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise StageError(f"{len(problems)} TFRecord file(s) do not match {data.manifest_path}: {shown}; "
                         f"rebuild them with `norlm bert-data --phase {phase}`")
    return f"{len(data.files)} files, {'sizes and sha256' if full else 'sizes'} match the manifest"


def checkpoint_preflight(out_dir: Path, variables: list, keep: int, force: bool) -> int:
    """Refuse before training when `keep` + 1 checkpoints will not fit (norlm.diskspace); bytes per checkpoint."""
    from norlm.bert.train.checkpoint import CHECKPOINT_NAME
    from norlm.diskspace import checkpoint_preflight as preflight

    per_checkpoint = sum(int(v.shape.num_elements()) * v.dtype.size for v in variables)
    preflight(out_dir, per_checkpoint, keep, force, CHECKPOINT_NAME)
    return per_checkpoint
