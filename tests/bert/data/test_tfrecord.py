"""Our numpy TFRecord/Example writer against TensorFlow's own reader and writer."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from norlm.bert.data.tfrecord import count_records, crc32c, crc32c_rows, encode_examples, iter_records, records_bytes


def test_crc32c_known_values_and_right_aligned_rows():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert crc32c(b"") == 0
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 256, size=n, dtype=np.uint8).tobytes() for n in (0, 1, 7, 64, 300)]
    width = 300
    matrix = np.zeros((len(rows), width), np.uint8)
    for i, r in enumerate(rows):
        if r:
            matrix[i, width - len(r):] = np.frombuffer(r, np.uint8)
    got = crc32c_rows(matrix, np.array([len(r) for r in rows]))
    assert [int(c) for c in got] == [crc32c(r) for r in rows]
    assert int(got[2]) != int(got[3])


def _random_features(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 40000, size=(n, 16)).astype(np.int32)
    ids[0] = 0
    ids[1, :4] = [127, 128, 16383, 16384]  # varint length boundaries
    ids[2, :2] = [2 ** 21 - 1, 2 ** 21]
    return {
        "input_ids": ids,
        "input_mask": rng.integers(0, 2, size=(n, 16)).astype(np.int32),
        "masked_lm_positions": rng.integers(0, 512, size=(n, 5)).astype(np.int32),
        "masked_lm_weights": rng.random((n, 5)).astype(np.float32),
        "next_sentence_labels": rng.integers(0, 2, size=n).astype(np.int32),
    }


def _spec():
    return {"input_ids": tf.io.FixedLenFeature([16], tf.int64), "input_mask": tf.io.FixedLenFeature([16], tf.int64),
            "masked_lm_positions": tf.io.FixedLenFeature([5], tf.int64),
            "masked_lm_weights": tf.io.FixedLenFeature([5], tf.float32),
            "next_sentence_labels": tf.io.FixedLenFeature([1], tf.int64)}


def test_examples_parse_back_with_tensorflow():
    feats = _random_features(50)
    flat, lengths = encode_examples(feats)
    starts = np.r_[0, np.cumsum(lengths)]
    serialized = [flat[starts[i]:starts[i + 1]].tobytes() for i in range(50)]
    parsed = tf.io.parse_example(tf.constant(serialized), _spec())
    for name, arr in feats.items():
        want = arr if arr.ndim == 2 else arr[:, None]
        np.testing.assert_array_equal(parsed[name].numpy(), want, err_msg=name)
    # same message as protobuf's own encoder (up to map-entry order): equal after a round trip
    example = tf.train.Example.FromString(serialized[3])
    assert list(example.features.feature["input_ids"].int64_list.value) == feats["input_ids"][3].tolist()
    assert len(serialized[3]) == example.ByteSize()


def test_framing_is_byte_identical_to_tf_writer(tmp_path):
    feats = _random_features(20, seed=2)
    data, offsets = records_bytes(feats)
    ours = tmp_path / "ours.tfrecord"
    ours.write_bytes(data.tobytes())
    flat, lengths = encode_examples(feats)
    starts = np.r_[0, np.cumsum(lengths)]
    theirs = tmp_path / "tf.tfrecord"
    with tf.io.TFRecordWriter(str(theirs)) as writer:
        for i in range(20):
            writer.write(flat[starts[i]:starts[i + 1]].tobytes())
    assert ours.read_bytes() == theirs.read_bytes()
    assert len(offsets) == 21 and offsets[-1] == len(data)
    assert count_records(str(ours)) == 20
    with open(ours, "rb") as fh:
        assert sum(1 for _ in iter_records(fh, str(ours))) == 20


def test_corrupted_record_is_reported(tmp_path):
    data, offsets = records_bytes(_random_features(3))
    raw = bytearray(data.tobytes())
    raw[offsets[1] + 20] ^= 0xFF  # inside the data of record 1
    path = tmp_path / "bad.tfrecord"
    path.write_bytes(bytes(raw))
    with open(path, "rb") as fh, pytest.raises(ValueError, match=r"bad\.tfrecord: bad data checksum"):
        list(iter_records(fh, str(path)))
    with pytest.raises(tf.errors.DataLossError):
        list(tf.data.TFRecordDataset(str(path)))
