"""TFRecord files of `tf.train.Example`s, encoded for a whole batch at once with numpy.

Importing TensorFlow costs seconds and protobuf objects cost microseconds per field, so the
pretraining-data stage writes the bytes itself.  Both formats are small and stable:

* `Example` = field 1 `Features` = repeated field 1 map entries (key = field 1, `Feature` = field
  2); `Feature` holds field 2 `FloatList` or field 3 `Int64List`, each a packed field 1.  Integers
  are varints (values here are non-negative), floats little-endian float32.  Map entries are
  written in sorted key order, so the bytes are deterministic.
* A TFRecord is `uint64 length`, `masked_crc32c(length)`, the data, `masked_crc32c(data)`, all
  little-endian; the mask is `((crc >> 15) | (crc << 17)) + 0xa282ead8`.

Every record of a batch is laid out as one row of a byte matrix with a validity mask (varints
take 1-3 slots), so the whole batch is a few numpy operations; CRC32C runs column by column over
right-aligned rows (each row starts from the register state that the left padding maps to the
standard initial value, so padding needs no masking).  `tf.data.TFRecordDataset` verifies both
CRCs and `tf.io.parse_example` the encoding (tests/bert_data).
"""
from __future__ import annotations

import struct
from functools import lru_cache
from typing import BinaryIO, Iterator

import numpy as np

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected


@lru_cache(maxsize=None)
def _crc_table() -> np.ndarray:
    table = np.zeros(256, np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table[i] = c
    return table


@lru_cache(maxsize=None)
def _pad_states(n: int) -> np.ndarray:
    """state[p]: the register value that `p` zero bytes turn into 0xFFFFFFFF (inverting the update)."""
    table = [int(v) for v in _crc_table()]
    by_top = {v >> 24: i for i, v in enumerate(table)}  # the top byte of the table entry identifies its index
    states = [0xFFFFFFFF]
    c = 0xFFFFFFFF
    for _ in range(n):
        i = by_top[c >> 24]
        c = (((c ^ table[i]) << 8) & 0xFFFFFFFF) | i  # previous register value, given the byte was zero
        states.append(c)
    return np.asarray(states, np.uint32)


def crc32c_rows(matrix: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC32C of each row of a right-aligned uint8 matrix (row r holds its bytes in the last lengths[r] columns)."""
    n, width = matrix.shape
    if n == 0:
        return np.zeros(0, np.uint32)
    table = _crc_table()
    crc = _pad_states(width)[width - lengths].astype(np.uint32)
    cols = np.ascontiguousarray(matrix.T).astype(np.uint32)
    ff = np.uint32(0xFF)
    eight = np.uint32(8)
    for col in cols:
        crc = table[(crc ^ col) & ff] ^ (crc >> eight)
    return crc ^ np.uint32(0xFFFFFFFF)


def crc32c(data: bytes) -> int:
    arr = np.frombuffer(data, np.uint8)[None, :]
    return int(crc32c_rows(arr, np.array([len(data)]))[0])


def masked_crc(crc: np.ndarray) -> np.ndarray:
    crc = crc.astype(np.uint64)
    return ((((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF).astype(np.uint32)


# --------------------------------------------------------------------------- protobuf encoding

def _varint_len(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.int64)
    return 1 + (x >= 1 << 7) + (x >= 1 << 14) + (x >= 1 << 21) + (x >= 1 << 28)


def _varint_slots(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Varints of a non-negative int matrix [N, M] as ([N, M*nb] bytes, validity or None if all valid)."""
    x = np.asarray(x, np.int64)
    if x.size and x.min() < 0:
        raise ValueError("only non-negative integers are encoded")
    top = int(x.max(initial=0))
    nb = int(_varint_len(np.array(top)))
    if nb == 1:
        return x.astype(np.uint8), None
    n, m = x.shape
    out = np.empty((n, m, nb), np.uint8)
    valid = np.empty((n, m, nb), bool)
    for b in range(nb):
        more = x >= (1 << (7 * (b + 1)))
        out[:, :, b] = ((x >> (7 * b)) & 0x7F) | (more.astype(np.int64) << 7)
        valid[:, :, b] = True if b == 0 else x >= (1 << (7 * b))
    return out.reshape(n, m * nb), valid.reshape(n, m * nb)


class _Rows:
    """Pieces of a batch of records, appended left to right."""

    def __init__(self, n: int):
        self.n = n
        self.bytes: list[np.ndarray] = []
        self.valid: list[np.ndarray] = []

    def const(self, data: bytes) -> None:
        arr = np.frombuffer(data, np.uint8)
        self.bytes.append(np.broadcast_to(arr, (self.n, len(arr))))
        self.valid.append(np.ones((self.n, len(arr)), bool))

    def varints(self, x: np.ndarray) -> None:
        cols, valid = _varint_slots(x if x.ndim == 2 else x[:, None])
        self.bytes.append(cols)
        self.valid.append(np.ones(cols.shape, bool) if valid is None else valid)

    def raw(self, cols: np.ndarray) -> None:
        self.bytes.append(cols)
        self.valid.append(np.ones(cols.shape, bool))

    def matrix(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.bytes, axis=1), np.concatenate(self.valid, axis=1)


def encode_examples(features: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Serialized `tf.train.Example`s, one per row: (right-aligned byte matrix [N, W], lengths [N]).

    Integer arrays become Int64List features, float arrays FloatList features; every array is
    [N, width] (a 1-D array is one value per example).
    """
    names = sorted(features)
    arrays = {k: (v[:, None] if v.ndim == 1 else v) for k, v in features.items()}
    n = next(iter(arrays.values())).shape[0]
    # payload bytes and nested message lengths per row, innermost first
    payload_len, entry_len = {}, {}
    for name in names:
        arr = arrays[name]
        if arr.dtype.kind == "f":
            payload_len[name] = np.full(n, 4 * arr.shape[1], np.int64)
        else:
            payload_len[name] = _varint_len(arr).sum(axis=1)
        plen = payload_len[name]
        list_len = 1 + _varint_len(plen) + plen
        feat_len = 1 + _varint_len(list_len) + list_len
        key = name.encode()
        entry_len[name] = (2 + len(key)) + 1 + _varint_len(feat_len) + feat_len, list_len, feat_len
    feats_len = sum(1 + _varint_len(e[0]) + e[0] for e in entry_len.values())

    rows = _Rows(n)
    rows.const(b"\x0a")
    rows.varints(feats_len)
    for name in names:
        arr = arrays[name]
        entry, list_len, feat_len = entry_len[name]
        key = name.encode()
        rows.const(b"\x0a")
        rows.varints(entry)
        rows.const(b"\x0a" + bytes([len(key)]) + key + b"\x12")
        rows.varints(feat_len)
        rows.const(b"\x12" if arr.dtype.kind == "f" else b"\x1a")
        rows.varints(list_len)
        rows.const(b"\x0a")
        rows.varints(payload_len[name])
        if arr.dtype.kind == "f":
            rows.raw(np.ascontiguousarray(arr.astype("<f4")).view(np.uint8).reshape(n, -1))
        else:
            rows.varints(arr)
    data, valid = rows.matrix()
    lengths = valid.sum(axis=1)
    width = int(lengths.max(initial=0))
    # right-align: row r's bytes go to the last lengths[r] columns
    out = np.zeros((n, width), np.uint8)
    dest_col = np.cumsum(valid, axis=1) - 1 + (width - lengths)[:, None]
    r_idx = np.broadcast_to(np.arange(n)[:, None], valid.shape)
    out[r_idx[valid], dest_col[valid]] = data[valid]
    return out, lengths


def frame_records(data: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TFRecord framing of right-aligned rows: (byte matrix [N, 12 + W + 4], validity mask)."""
    n, width = data.shape
    length_bytes = lengths.astype("<u8").view(np.uint8).reshape(n, 8)
    len_crc = masked_crc(crc32c_rows(length_bytes, np.full(n, 8))).astype("<u4").view(np.uint8).reshape(n, 4)
    data_crc = masked_crc(crc32c_rows(data, lengths)).astype("<u4").view(np.uint8).reshape(n, 4)
    matrix = np.concatenate([length_bytes, len_crc, data, data_crc], axis=1)
    valid = np.ones(matrix.shape, bool)
    valid[:, 12:12 + width] = np.arange(width)[None, :] >= (width - lengths)[:, None]
    return matrix, valid


def records_bytes(features: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Framed TFRecords of a batch: (matrix, validity); `matrix[rows][valid[rows]]` is their file bytes."""
    return frame_records(*encode_examples(features))


def iter_records(fh: BinaryIO, path: str = "?") -> Iterator[bytes]:
    """Raw records of a TFRecord file, checking both CRCs (a small reader that needs no TensorFlow)."""
    offset = 0
    while True:
        header = fh.read(12)
        if not header:
            return
        if len(header) < 12:
            raise ValueError(f"{path}: truncated record header at byte {offset}")
        (length,), (len_crc,) = struct.unpack("<Q", header[:8]), struct.unpack("<I", header[8:])
        if int(masked_crc(np.array([crc32c(header[:8])]))[0]) != len_crc:
            raise ValueError(f"{path}: bad length checksum at byte {offset}")
        data = fh.read(length)
        footer = fh.read(4)
        if len(data) < length or len(footer) < 4:
            raise ValueError(f"{path}: truncated record at byte {offset}")
        if int(masked_crc(np.array([crc32c(data)]))[0]) != struct.unpack("<I", footer)[0]:
            raise ValueError(f"{path}: bad data checksum at byte {offset}")
        offset += 16 + length
        yield data


def count_records(path: str) -> int:
    """Number of records in a TFRecord file (walks the length headers only)."""
    count = 0
    with open(path, "rb") as fh:
        while True:
            header = fh.read(12)
            if not header:
                return count
            if len(header) < 12:
                raise ValueError(f"{path}: truncated record header after {count} records")
            fh.seek(struct.unpack("<Q", header[:8])[0] + 4, 1)
            count += 1
