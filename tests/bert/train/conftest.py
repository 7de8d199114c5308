"""Fixtures for the BERT training tests: a work folder with a vocab and small generated TFRecords."""
from __future__ import annotations

from pathlib import Path

import pytest

from . import synth
from .synth import PRED, SEQ, VOCAB


@pytest.fixture
def small_work(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "vocab").mkdir(parents=True)
    synth.write_vocab(work / "vocab" / "vocab.txt", VOCAB)
    synth.write_tfrecords(work / "bert/tfrecords/phase1", 256, SEQ, PRED, VOCAB, seed=1, files=2)
    synth.write_tfrecords(work / "bert/tfrecords/phase2", 64, 2 * SEQ, 2 * PRED, VOCAB, seed=2, files=2, phase=2)
    return work
