"""tf.data pipeline over the pretraining TFRecords (bert-recipe §1.6, §2.4), for training and evaluation.

    from norlm.bert.train.input import make_dataset, list_files
    files = list_files(Layout(work).bert_records(1))             # sorted, as in manifest.json
    ds = make_dataset(files, batch_size=32, max_seq_length=128, max_predictions_per_seq=20,
                      is_training=True, seed=12345, rank=engines.rank(), size=engines.size(),
                      skip_batches=step * accumulation)
    for batch in ds: ...   # dict of int32 [B, T] / [B, P] tensors, masked_lm_weights float32,
                           # next_sentence_labels int32 [B, 1]

Training order (as NVIDIA's `run_pretraining.py`, made deterministic): the rank's files
(`files[rank::size]`; an error if there are fewer files than ranks) -> per epoch a seeded shuffle of
the file order -> repeat forever -> interleave `cycle_length = min(4, files)` files record by record
-> seeded shuffle buffer -> batch with `drop_remainder` -> parse.  Every shuffle has a fixed seed
and the interleave is deterministic, so the same (files, seed, rank, size, batch_size) always gives
the same sequence of batches.

Exact resume: pass `skip_batches=n` (the number of batches this rank has already consumed) and the
dataset starts at batch n of that sequence; records are skipped before parsing, so this costs one
read of the skipped records, not a parse.  (The iterator of the training dataset can also be put in
a `tf.train.Checkpoint(data=iterator)`; it saves the shuffle buffer, about a hundred records.)

Evaluation (`is_training=False`): the rank's files in order, each record once, no shuffle; the
last partial batch is kept unless `drop_remainder=True`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import tensorflow as tf

from norlm.bert.data.manifest import FEATURES

SHUFFLE_BUFFER = 100  # records, as NVIDIA's reader
CYCLE_LENGTH = 4  # files read at once


def list_files(folder: str | Path) -> list[str]:
    """The TFRecord files of a phase folder, sorted (the order manifest.json lists them in)."""
    files = sorted(str(p) for p in Path(folder).glob("*.tfrecord"))
    if not files:
        raise FileNotFoundError(f"{folder}: no *.tfrecord files (run `make bert-data` first)")
    return files


def feature_spec(max_seq_length: int, max_predictions_per_seq: int) -> dict[str, tf.io.FixedLenFeature]:
    """The parser's view of the one record schema (norlm.bert.data.manifest.FEATURES)."""
    dtypes = {"int64": tf.int64, "float32": tf.float32}
    return {name: tf.io.FixedLenFeature([f.size(max_seq_length, max_predictions_per_seq)], dtypes[f.dtype])
            for name, f in FEATURES.items()}


def parse_batch(serialized: tf.Tensor, max_seq_length: int, max_predictions_per_seq: int) -> dict[str, tf.Tensor]:
    """A batch of serialized Examples -> dict of int32 tensors (masked_lm_weights float32)."""
    parsed = tf.io.parse_example(serialized, feature_spec(max_seq_length, max_predictions_per_seq))
    return {k: tf.cast(v, tf.int32) if v.dtype == tf.int64 else v for k, v in parsed.items()}


def rank_files(files: Sequence[str], rank: int | None, size: int | None) -> list[str]:
    """This rank's files (`files[rank::size]`), with a clear error when some rank would get none."""
    files = list(files)
    rank, size = rank or 0, size or 1
    if not 0 <= rank < size:
        raise ValueError(f"rank {rank} is not in 0..{size - 1}")
    if len(files) < size:
        raise ValueError(f"{len(files)} input file(s) for {size} ranks: every rank needs at least one file; "
                         "write more files (bert_data.files_per_shard or more corpus shards) or use fewer ranks")
    return files[rank::size]


def make_dataset(files: Sequence[str], batch_size: int, max_seq_length: int, max_predictions_per_seq: int,
                 is_training: bool = True, seed: int = 0, rank: int | None = None, size: int | None = None,
                 skip_batches: int = 0, drop_remainder: bool | None = None,
                 shuffle_buffer: int = SHUFFLE_BUFFER) -> tf.data.Dataset:
    """Batches of parsed pretraining instances for one rank (see the module docstring)."""
    mine = rank_files(files, rank, size)
    if drop_remainder is None:
        drop_remainder = is_training
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(mine, tf.string))
    if is_training:
        # a different seeded file order every epoch; the sequence of epochs is itself deterministic
        ds = ds.shuffle(len(mine), seed=seed, reshuffle_each_iteration=True).repeat()
        ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(CYCLE_LENGTH, len(mine)), block_length=1,
                           num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.shuffle(shuffle_buffer, seed=seed + 1, reshuffle_each_iteration=True)
    else:
        ds = tf.data.TFRecordDataset(ds)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if skip_batches:
        ds = ds.skip(skip_batches)
    ds = ds.map(lambda s: parse_batch(s, max_seq_length, max_predictions_per_seq),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- damaged records met in training

def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def masked_crc32c(data: bytes) -> int:
    """The TFRecord frame checksum: CRC-32C, rotated and offset ("masked") as TFRecord stores it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def damaged_at(path: str, offset: int) -> bool:
    """Whether the file has a record starting at `offset` (or its data there) that fails its checksum.

    Walks the frames (12-byte headers) from the start, so an undamaged file whose bytes merely
    happen to sit at that offset is not blamed.
    """
    import struct

    with open(path, "rb") as fh:
        pos = 0
        while pos <= offset:
            head = fh.read(12)
            if len(head) < 12:
                return False
            length, length_crc = struct.unpack("<QI", head)
            if masked_crc32c(head[:8]) != length_crc:
                return pos in (offset, offset - 12)
            if pos in (offset, offset - 12):
                data = fh.read(length + 4)
                return len(data) < length + 4 or masked_crc32c(data[:length]) != struct.unpack("<I", data[length:])[0]
            pos += 12 + length + 4
            fh.seek(pos)
    return False


def data_loss_text(exc) -> str:
    """What a DataLossError says, without TensorFlow's op name and node decorations."""
    return exc.message.split("}}")[-1].split("[Op:")[0].strip()


def damaged_file(files: Sequence[str], message: str) -> str | None:
    """The file a DataLossError came from (TensorFlow names only the offset), else None."""
    import re

    m = re.search(r"(?:corrupted|truncated) record at (\d+)", message)
    if m is None:
        return None
    offset = int(m.group(1))
    for path in files:
        if Path(path).stat().st_size > offset and damaged_at(path, offset):
            return path
    return None


def guard_data_loss(batches, files: Sequence[str], last_checkpoint):
    """The batch iterator, with a corrupt record turned into a StageError naming the file.

    `last_checkpoint()` gives the newest checkpoint: the update that met the record is never
    applied, and nothing is saved after it, so that checkpoint is the last good state.
    """
    from norlm.errors import StageError

    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except tf.errors.DataLossError as exc:
            what = data_loss_text(exc)
            where = damaged_file(files, exc.message) or f"one of {', '.join(files[:4])}{' ...' if len(files) > 4 else ''}"
            raise StageError(f"{where}: damaged TFRecord ({what}); stopping without saving; last good "
                             f"checkpoint: {last_checkpoint() or 'none'}; rebuild the file with `norlm bert-data`"
                             ) from None
        yield batch
