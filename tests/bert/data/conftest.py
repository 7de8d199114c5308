"""Fixtures for the bert-data tests: NDT Bokmål shards in a temp folder, the published NorBERT
vocabulary as tokenizer.json, and one phase-1 run of the stage shared by several tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_norlm

from norlm.corpus.samples import NORBERT_VOCAB, ndt_documents, write_shards

PHASE1 = dict(seq=128, pred=20, dupe=5)


@pytest.fixture(scope="session")
def bd_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bert_data")


@pytest.fixture(scope="session")
def ndt_corpus(bd_root) -> Path:
    """All NDT Bokmål files as 4 gzip shards (~20,000 sentences, 232 documents)."""
    write_shards(ndt_documents(), bd_root / "corpus", 4)
    return bd_root / "corpus"


@pytest.fixture(scope="session")
def tokenizer_json(bd_root) -> Path:
    from norlm.vocab.tokenizer import build_tokenizer

    path = bd_root / "vocab" / "tokenizer.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    build_tokenizer(NORBERT_VOCAB).save(str(path))
    return path


def stage_args(corpus: Path, tokenizer: Path, *extra: str, seed: int = 12345, files_per_shard: int = 2,
               dupe: int = PHASE1["dupe"]) -> list[str]:
    return ["bert-data", "--config", "configs/smoke.toml", "--phase", "1", f"run.seed={seed}",
            f"bert_data.corpus_glob={corpus}/*.txt.gz", f"bert_data.vocab={tokenizer}",
            f"bert_data.files_per_shard={files_per_shard}", f"bert_data.phase1.dupe_factor={dupe}",
            "bert_data.phase1.max_seq_length=128", "bert_data.phase1.max_predictions_per_seq=20", *extra]


@pytest.fixture(scope="session")
def phase1_run(bd_root, ndt_corpus, tokenizer_json) -> Path:
    """`norlm bert-data --phase 1 --workers 2` on the NDT shards; returns the phase folder."""
    work = bd_root / "work-w2"
    run_norlm(*stage_args(ndt_corpus, tokenizer_json, "--workers", "2"), work=work)
    return work / "bert" / "tfrecords" / "phase1"


@pytest.fixture(scope="session")
def phase1_arrays(phase1_run) -> dict:
    """Every instance of the phase-1 run, read back with norlm.bert.train.input (files in order)."""
    import numpy as np

    from norlm.bert.train.input import list_files, make_dataset

    ds = make_dataset(list_files(phase1_run), 4096, 128, 20, is_training=False)
    cols: dict[str, list] = {}
    for batch in ds:
        for k, v in batch.items():
            cols.setdefault(k, []).append(v.numpy())
    return {k: np.concatenate(v) for k, v in cols.items()}
