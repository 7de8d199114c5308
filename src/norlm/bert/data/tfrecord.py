"""TFRecord files of `tf.train.Example`s, encoded for a whole batch at once with numpy.

Importing TensorFlow costs seconds and protobuf objects cost microseconds per field, so the
pretraining-data stage writes the bytes itself.  Both formats are small and stable:

* `Example` = field 1 `Features` = repeated field 1 map entries (key = field 1, `Feature` = field
  2); `Feature` holds field 2 `FloatList` or field 3 `Int64List`, each a packed field 1.  Integers
  are varints (values here are non-negative), floats little-endian float32.  Map entries may come
  in any order; we write the variable-size ones first, then the rest, each group by name.
* A TFRecord is `uint64 length`, `masked_crc32c(length)`, the data, `masked_crc32c(data)`, all
  little-endian; the mask is `((crc >> 15) | (crc << 17)) + 0xa282ead8`.

Every record of a batch is laid out as one row of a byte matrix with a validity mask (varints
take 1-3 slots), so the whole batch is a few numpy operations; the fixed-size tail of the records
needs no mask.  CRC32C runs over right-aligned rows, four bytes per step with two 64K-entry tables
(each row starts from the register state that its left padding maps to the standard initial
value, so padding needs no masking).  `tf.data.TFRecordDataset` verifies both
CRCs and `tf.io.parse_example` the encoding (tests/bert/data).
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


@lru_cache(maxsize=None)
def _word_tables() -> tuple[np.ndarray, np.ndarray]:
    """Effect of a 4-byte word's low and high 16 bits on the register (CRC slicing by 4, two lookups)."""
    table = _crc_table()

    def four_zero_bytes(x: np.ndarray) -> np.ndarray:
        for _ in range(4):
            x = table[x & 0xFF] ^ (x >> np.uint32(8))
        return x

    v = np.arange(1 << 16, dtype=np.uint32)
    return four_zero_bytes(v), four_zero_bytes(v << np.uint32(16))


def crc32c_rows(matrix: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC32C of each row of a right-aligned uint8 matrix (row r holds its bytes in the last lengths[r] columns)."""
    n, width = matrix.shape
    if n == 0:
        return np.zeros(0, np.uint32)
    extra = -width % 4  # whole 4-byte words: pad on the left
    if extra:
        matrix = np.concatenate([np.zeros((n, extra), np.uint8), matrix], axis=1)
        width += extra
    start = _pad_states(width)[width - np.asarray(lengths)].astype(np.uint32)
    return _run_words(np.ascontiguousarray(matrix).view("<u4"), start) ^ np.uint32(0xFFFFFFFF)


def _run_words(words: np.ndarray, crc: np.ndarray) -> np.ndarray:
    """Advance each row's CRC register `crc` over its row of little-endian 4-byte `words` [n, k]."""
    low, high = _word_tables()
    mask16, sixteen = np.uint32(0xFFFF), np.uint32(16)
    for word in np.ascontiguousarray(words.T):
        x = crc ^ word
        crc = low[x & mask16] ^ high[x >> sixteen]
    return crc


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


def _varint_slots(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Varints of a non-negative int matrix [N, M]: (bytes [N, M*nb], validity or None if all valid,
    encoded length per row)."""
    x = np.asarray(x)
    if x.size and x.min() < 0:
        raise ValueError("only non-negative integers are encoded")
    n, m = x.shape
    top = int(x.max(initial=0))
    nb = int(_varint_len(np.array(top)))
    if nb == 1:
        return x.astype(np.uint8), None, np.full(n, m, np.int64)
    x = x.astype(np.int32 if top < 2 ** 31 else np.int64)
    out = np.empty((n, m, nb), np.uint8)
    valid = np.empty((n, m, nb), bool)
    for b in range(nb):
        more = x >= (1 << (7 * (b + 1)))
        out[:, :, b] = ((x >> (7 * b)) & 0x7F) | (more << 7)
        valid[:, :, b] = True if b == 0 else x >= (1 << (7 * b))
    valid = valid.reshape(n, m * nb)
    return out.reshape(n, m * nb), valid, valid.sum(axis=1)


def _column(x) -> np.ndarray:
    x = np.asarray(x)
    return x[:, None] if x.ndim == 1 else x


class _Rows:
    """Pieces of a batch of records, appended left to right; a piece's validity None = all bytes used."""

    def __init__(self, n: int):
        self.n = n
        self.bytes: list[np.ndarray] = []
        self.valid: list[np.ndarray | None] = []

    def const(self, data: bytes) -> None:
        self.bytes.append(np.broadcast_to(np.frombuffer(data, np.uint8), (self.n, len(data))))
        self.valid.append(None)

    def slots(self, cols: np.ndarray, valid: np.ndarray | None) -> None:
        self.bytes.append(cols)
        self.valid.append(valid)

    def varint(self, x: np.ndarray) -> None:
        x = np.asarray(x)
        if x.ndim == 1 and len(x) and x.min() == x.max():  # the same value in every row: constant bytes
            cols, _, _ = _varint_slots(x[:1, None])
            self.const(cols[0].tobytes())
            return
        cols, valid, _ = _varint_slots(_column(x))
        self.slots(cols, valid)

    def parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(used bytes of the variable-width prefixes concatenated row after row, their lengths,
        the fixed-width suffix [N, W] that every row ends with)."""
        last = max((i for i, v in enumerate(self.valid) if v is not None), default=-1)
        head, tail = slice(0, last + 1), slice(last + 1, None)
        data = np.concatenate(self.bytes[head], axis=1) if last >= 0 else np.zeros((self.n, 0), np.uint8)
        valid = np.concatenate([np.ones(b.shape, bool) if v is None else v
                                for b, v in zip(self.bytes[head], self.valid[head])], axis=1) if last >= 0 \
            else np.zeros((self.n, 0), bool)
        suffix = np.concatenate(self.bytes[tail], axis=1) if self.bytes[tail] else np.zeros((self.n, 0), np.uint8)
        return data[valid], valid.sum(axis=1), suffix


def _encode_parts(features: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Serialized `tf.train.Example`s as `_Rows.parts()`.  Map entries whose size varies between
    rows come first (then by name), so every record ends with the same-width bytes of the others."""
    n = len(next(iter(features.values())))
    payload, plen = {}, {}
    for name, arr in features.items():
        arr = _column(arr)
        if arr.dtype.kind == "f":
            payload[name] = (np.ascontiguousarray(arr.astype("<f4")).view(np.uint8).reshape(n, -1), None)
            plen[name] = np.full(n, 4 * arr.shape[1], np.int64)
        else:
            cols, valid, lengths = _varint_slots(arr)
            payload[name], plen[name] = (cols, valid), lengths
    names = sorted(features, key=lambda k: (payload[k][1] is None, k))
    sizes = {}
    for name in names:
        list_len = 1 + _varint_len(plen[name]) + plen[name]
        feat_len = 1 + _varint_len(list_len) + list_len
        entry_len = 3 + len(name.encode()) + _varint_len(feat_len) + feat_len
        sizes[name] = (entry_len, feat_len, list_len)
    feats_len = sum(1 + _varint_len(e) + e for e, _, _ in sizes.values())

    rows = _Rows(n)
    rows.const(b"\x0a")
    rows.varint(feats_len)
    for name in names:
        entry_len, feat_len, list_len = sizes[name]
        key = name.encode()
        is_float = features[name].dtype.kind == "f"
        rows.const(b"\x0a")
        rows.varint(entry_len)
        rows.const(b"\x0a" + bytes([len(key)]) + key + b"\x12")
        rows.varint(feat_len)
        rows.const(b"\x12" if is_float else b"\x1a")
        rows.varint(list_len)
        rows.const(b"\x0a")
        rows.varint(plen[name])
        rows.slots(*payload[name])
    return rows.parts()


def encode_examples(features: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Serialized `tf.train.Example`s, one per row: (bytes of all rows concatenated, length of each).

    Integer arrays become Int64List features, float arrays FloatList features; every array is
    [N, width] (a 1-D array is one value per example).
    """
    prefix, prefix_len, suffix = _encode_parts(features)
    starts = np.r_[0, np.cumsum(prefix_len)]
    rows = [np.concatenate([prefix[starts[i]:starts[i + 1]], suffix[i]]) for i in range(len(prefix_len))]
    return (np.concatenate(rows) if rows else np.zeros(0, np.uint8)), prefix_len + suffix.shape[1]


def frame_records(prefix: np.ndarray, prefix_len: np.ndarray, suffix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TFRecord framing of records given as `_Rows.parts()`: (file bytes of all records, record offsets + end)."""
    n = len(prefix_len)
    fixed = suffix.shape[1]
    lengths = prefix_len.astype(np.int64) + fixed
    width = int(lengths.max(initial=0))
    width += -width % 4  # whole 4-byte words for the CRC
    pad = width - lengths
    # one row per record: [padding | length, crc | data | crc], data right-aligned so the CRC
    # runs over whole columns; the used bytes in row order are the file's bytes
    framed = np.zeros((n, 12 + width + 4), np.uint8)
    used = np.arange(width + 16)[None, :] >= pad[:, None]
    var_width = width - fixed
    framed[:, 12:12 + var_width][used[:, :var_width]] = prefix  # data column c is used when c >= pad
    framed[:, 12 + var_width:12 + width] = suffix
    crc = _run_words(framed.view("<u4")[:, 3:3 + width // 4], _pad_states(width)[pad].astype(np.uint32))
    data_crc = masked_crc(crc ^ np.uint32(0xFFFFFFFF))
    length_bytes = lengths.astype("<u8").view(np.uint8).reshape(n, 8)
    len_crc = masked_crc(crc32c_rows(length_bytes, np.full(n, 8))).astype("<u4").view(np.uint8).reshape(n, 4)
    framed[:, 12 + width:] = data_crc.astype("<u4").view(np.uint8).reshape(n, 4)
    header_cols = pad[:, None] + np.arange(12)[None, :]
    framed[np.arange(n)[:, None], header_cols] = np.concatenate([length_bytes, len_crc], axis=1)
    out = framed[used]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths + 16, out=offsets[1:])
    return out, offsets


def records_bytes(features: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Framed TFRecords of a batch: (bytes, offsets); record r is `bytes[offsets[r]:offsets[r + 1]]`."""
    return frame_records(*_encode_parts(features))


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
