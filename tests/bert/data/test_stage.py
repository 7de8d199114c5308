"""`norlm bert-data` end to end on NDT text: statistics of the written data, determinism, reruns,
workers and MPI ranks, bad input, and `norlm bert-data-inspect`."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np

from tests.conftest import REPO, mpirun_cmd, norlm_env, run_norlm

from .conftest import stage_args

CLS, SEP, MASK, VOCAB_SIZE = 102, 103, 104, 32922


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.tfrecord"))}


def test_manifest_and_files(phase1_run):
    manifest = json.loads((phase1_run / "manifest.json").read_text())
    assert [f["name"] for f in manifest["files"]] == [f"{i:04d}.tfrecord" for i in range(8)]
    assert sorted(_files(phase1_run)) == [f["name"] for f in manifest["files"]]
    assert manifest["instances"] == sum(f["instances"] for f in manifest["files"]) > 15000
    # round-robin: the two files of a shard differ by at most one instance
    counts = [f["instances"] for f in manifest["files"]]
    assert all(abs(counts[2 * s] - counts[2 * s + 1]) <= 1 for s in range(4))
    assert manifest["max_seq_length"] == 128 and manifest["max_predictions_per_seq"] == 20
    assert manifest["dupe_factor"] == 5 and manifest["seed"] == 12345
    assert manifest["stats"]["sentences"] == 20045 and manifest["stats"]["documents"] == 232
    assert len(manifest["vocab"]["sha256"]) == 64 and manifest["vocab"]["size"] == VOCAB_SIZE
    assert manifest["next_sentence_label"].startswith("0 = IsNext")
    assert (phase1_run / "run-bert-data.json").exists()


def test_written_instances_follow_the_recipe(phase1_run, phase1_arrays):
    d = phase1_arrays
    manifest = json.loads((phase1_run / "manifest.json").read_text())
    n = len(d["input_ids"])
    assert n == manifest["instances"]
    assert all(v.dtype == (np.float32 if k == "masked_lm_weights" else np.int32) for k, v in d.items())
    length = d["input_mask"].sum(1)
    pos = np.arange(128)[None, :]
    # input mask: a prefix of ones; padding is zero everywhere
    np.testing.assert_array_equal(d["input_mask"], (pos < length[:, None]).astype(np.int32))
    assert (d["input_ids"][d["input_mask"] == 0] == 0).all() and (d["segment_ids"][d["input_mask"] == 0] == 0).all()
    # [CLS] A [SEP] B [SEP]; segment 1 = B and the final [SEP]
    seg_b = d["segment_ids"].sum(1)
    a_len = length - seg_b - 2
    rows = np.arange(n)
    assert (d["input_ids"][:, 0] == CLS).all() and (a_len >= 1).all() and (seg_b >= 2).all()
    assert (d["input_ids"][rows, a_len + 1] == SEP).all() and (d["input_ids"][rows, length - 1] == SEP).all()
    np.testing.assert_array_equal(d["segment_ids"], ((pos >= (a_len + 2)[:, None]) & (pos < length[:, None])))
    assert (d["input_ids"] < VOCAB_SIZE).all() and (d["input_ids"] >= 0).all()
    assert (d["masked_lm_ids"] < VOCAB_SIZE).all()
    # masked count = min(cap, max(1, round(0.15 * length)))
    valid = d["masked_lm_weights"] > 0
    np.testing.assert_array_equal(valid.sum(1), np.minimum(20, np.maximum(1, np.round(0.15 * length))))
    assert set(np.unique(d["masked_lm_weights"])) == {0.0, 1.0}
    positions = d["masked_lm_positions"]
    assert not np.isin(positions[valid], [0]).any()
    assert (positions[valid] != np.broadcast_to((a_len + 1)[:, None], positions.shape)[valid]).all()
    assert (positions[valid] != np.broadcast_to((length - 1)[:, None], positions.shape)[valid]).all()
    assert not np.isin(d["masked_lm_ids"][valid], [CLS, SEP]).any()
    # 80 / 10 / 10
    shown = d["input_ids"][rows[:, None], positions][valid]
    label = d["masked_lm_ids"][valid]
    assert abs((shown == MASK).mean() - 0.8) < 0.015
    assert abs((shown == label).mean() - 0.1) < 0.015
    assert abs(((shown != MASK) & (shown != label)).mean() - 0.1) < 0.015
    # random next: chunks of one sentence are always random, the rest half of the time
    stats = manifest["stats"]
    expected = (stats["single_sentence_chunks"] + 0.5 * (n - stats["single_sentence_chunks"])
                - stats["same_document_fallbacks"]) / n
    assert 0.5 < expected < 0.6
    assert abs(d["next_sentence_labels"].mean() - expected) < 0.02
    assert stats["random_next"] == int(d["next_sentence_labels"].sum())
    assert abs(stats["short_target_documents"] / stats["document_passes"] - 0.1) < 0.025


def test_reader_yields_exactly_the_written_instances(phase1_run, tokenizer_json, ndt_corpus):
    """File 0001 = the odd-numbered instances of shard 0, recomputed in-process."""
    from norlm.bert.data.stage import Job, shard_batches
    from norlm.bert.train.input import make_dataset

    inputs = tuple(sorted(str(p) for p in ndt_corpus.glob("*.txt.gz")))
    job = Job(inputs=inputs, out_dir=str(phase1_run), vocab_path=str(tokenizer_json), vocab_sha256="", seed=12345,
              max_seq_length=128, max_predictions_per_seq=20, dupe_factor=5, masked_lm_prob=0.15,
              short_seq_prob=0.1, whole_word_mask=False, files_per_shard=2)
    batches = shard_batches(job, 0)
    next(batches)
    expected: dict[str, list] = {}
    for start, feats in batches:
        odd = (start + np.arange(len(feats["input_ids"]))) % 2 == 1
        for k, v in feats.items():
            expected.setdefault(k, []).append(v[odd])
    expected = {k: np.concatenate(v) for k, v in expected.items()}
    got: dict[str, list] = {}
    for batch in make_dataset([str(phase1_run / "0001.tfrecord")], 1000, 128, 20, is_training=False):
        for k, v in batch.items():
            got.setdefault(k, []).append(v.numpy())
    got = {k: np.concatenate(v) for k, v in got.items()}
    assert len(got["input_ids"]) == len(expected["input_ids"]) > 2000
    for k in expected:
        want = expected[k][:, None] if expected[k].ndim == 1 else expected[k]
        np.testing.assert_array_equal(got[k], want, err_msg=k)


def test_workers_seed_and_rerun(phase1_run, bd_root, ndt_corpus, tokenizer_json):
    reference = _files(phase1_run)
    # one worker, another folder: byte-identical
    w1 = bd_root / "work-w1"
    run_norlm(*stage_args(ndt_corpus, tokenizer_json, "--workers", "1"), work=w1)
    out1 = w1 / "bert" / "tfrecords" / "phase1"
    assert _files(out1) == reference
    # rerun: every shard is skipped, nothing is rewritten
    mtimes = {p.name: p.stat().st_mtime_ns for p in out1.glob("*.tfrecord")}
    proc = run_norlm(*stage_args(ndt_corpus, tokenizer_json, "--workers", "1"), work=w1)
    assert "4 shard(s) already complete" in proc.stdout
    assert {p.name: p.stat().st_mtime_ns for p in out1.glob("*.tfrecord")} == mtimes
    assert (out1 / "manifest.json").exists()
    # a different seed gives different data of the same shape
    proc = run_norlm(*stage_args(ndt_corpus, tokenizer_json, "--workers", "2", seed=7), work=w1)
    assert "0 shard(s) already complete" in proc.stdout
    other = _files(out1)
    assert sorted(other) == sorted(reference) and all(other[k] != reference[k] for k in reference)


def test_two_mpi_ranks_write_the_same_files(phase1_run, bd_root, ndt_corpus, tokenizer_json):
    work = bd_root / "work-mpi"
    cmd = mpirun_cmd(2) + [sys.executable, "-m", "norlm", *stage_args(ndt_corpus, tokenizer_json, "--workers", "1")]
    env = norlm_env(work)
    env["PYTHONPATH"] = str(REPO / "src")
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 rank(s)" in proc.stdout
    assert _files(work / "bert" / "tfrecords" / "phase1") == _files(phase1_run)
    manifest = json.loads((work / "bert" / "tfrecords" / "phase1" / "manifest.json").read_text())
    assert manifest["instances"] == json.loads((phase1_run / "manifest.json").read_text())["instances"]


def test_bad_lines_are_reported_and_an_empty_corpus_fails(bd_root, tokenizer_json):
    corpus = bd_root / "bad-corpus"
    corpus.mkdir()
    text = ("Dette er en setning .\nDette er den andre .\n\n".encode() * 3
            + b"Ugyldig \xff tekst .\n\nSiste dokument her .\nOg en til .\n")
    with gzip.open(corpus / "bad-0000.txt.gz", "wb") as fh:
        fh.write(text)
    work = bd_root / "work-bad"
    proc = run_norlm(*stage_args(corpus, tokenizer_json, files_per_shard=1, dupe=2), work=work)
    assert "bad-0000.txt.gz:10: skipped, not UTF-8" in proc.stderr
    manifest = json.loads((work / "bert" / "tfrecords" / "phase1" / "manifest.json").read_text())
    assert manifest["stats"]["bad_lines"] == 1 and manifest["stats"]["documents"] == 4
    assert manifest["instances"] > 0

    empty = bd_root / "empty-corpus"
    empty.mkdir()
    with gzip.open(empty / "e-0000.txt.gz", "wb") as fh:
        fh.write(b"\n\n\n")
    proc = run_norlm(*stage_args(empty, tokenizer_json, files_per_shard=1), work=bd_root / "work-empty", check=False)
    assert proc.returncode == 1 and "no instances" in proc.stderr
    assert not (bd_root / "work-empty" / "bert" / "tfrecords" / "phase1" / "manifest.json").exists()
    proc = run_norlm(*stage_args(bd_root / "nowhere", tokenizer_json), work=bd_root / "work-none", check=False)
    assert proc.returncode == 1 and "no corpus shards" in proc.stderr


def test_inspect_decodes_instances(phase1_run, phase1_arrays, capsys):
    from norlm.cli import main

    assert main(["bert-data-inspect", str(phase1_run / "0000.tfrecord"), "--show", "2"]) == 0
    out = capsys.readouterr().out
    manifest = json.loads((phase1_run / "manifest.json").read_text())
    count = manifest["files"][0]["instances"]
    assert f"0000.tfrecord: {count} instances" in out
    assert out.startswith("[0] length ") and "\n[1] length " in out and "\n[2] length " not in out
    assert "[CLS] " in out and " [SEP]" in out and "[MASK]→" in out
    first = phase1_arrays["input_mask"][0].sum()  # file 0000 comes first in phase1_arrays
    assert out.startswith(f"[0] length {first}, ")
    assert "mean predictions" in out
    assert main(["bert-data-inspect", str(phase1_run / "missing.tfrecord")]) == 1
