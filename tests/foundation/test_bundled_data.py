"""Bundled data verification and resumable, checksum-verified downloads (file:// URLs only)."""
from __future__ import annotations

import hashlib
import shutil

import pytest

from norlm.bundled_data import fetch, git_blob_of, load_remote, verify, write_manifest
from tests.conftest import DATA, REPO, run_norlm


def test_bundled_data_matches_manifest():
    proc = run_norlm("data", "verify")
    assert "all" in proc.stdout and "match" in proc.stdout


def test_verify_catches_a_flipped_byte(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA / "norec_sentence", copy / "norec_sentence")
    write_manifest(copy, copy / "manifest.tsv")
    assert verify(copy, copy / "manifest.tsv") == []
    target = copy / "norec_sentence/binary/dev.csv"
    raw = bytearray(target.read_bytes())
    raw[100] ^= 0x01
    target.write_bytes(bytes(raw))
    problems = verify(copy, copy / "manifest.tsv")
    assert problems == [p for p in problems if "norec_sentence/binary/dev.csv" in p] and len(problems) == 1
    assert "checksum differs" in problems[0]
    proc = run_norlm("data", "verify", "--data-dir", str(copy), check=False)
    assert proc.returncode == 2 and "dev.csv" in proc.stderr and "norlm data: error: 1 problem(s)" in proc.stderr


def test_verify_reports_missing_and_extra(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA / "fixtures", copy / "fixtures")
    write_manifest(copy, copy / "manifest.tsv")
    first = sorted((copy / "fixtures").iterdir())[0]
    first.unlink()
    (copy / "extra.txt").write_text("x")
    problems = verify(copy, copy / "manifest.tsv")
    assert any(p.startswith("missing:") for p in problems) and any("not in manifest: extra.txt" in p for p in problems)


def test_remote_manifest_entries_have_checksums():
    entries = load_remote(REPO / "data/remote.toml")
    for name in ("ud27-nob-train", "ud27-nno-train", "norne-nob-train", "norne-nno-train", "nowiki-dump",
                 "nnwiki-dump", "norsk-aviskorpus", "norec-fine-train", "norec-neg-train"):
        assert name in entries
    unverified = [n for n, e in entries.items()
                  if not any(e.get(k) for k in ("sha256", "git_blob", "sha1", "sha1_list_url"))]
    assert unverified == ["norsk-aviskorpus"]


@pytest.fixture
def source(tmp_path):
    payload = bytes(range(256)) * 4000  # ~1 MB, several read blocks
    src = tmp_path / "remote" / "corpus.bin"
    src.parent.mkdir()
    src.write_bytes(payload)
    return src, payload


def test_fetch_good_checksum(tmp_path, source):
    src, payload = source
    entry = {"url": src.as_uri(), "filename": "corpus.bin", "sha256": hashlib.sha256(payload).hexdigest()}
    out = fetch(entry, tmp_path / "dest", log=lambda *_: None)
    assert out.read_bytes() == payload
    assert not (tmp_path / "dest/corpus.bin.part").exists()


def test_fetch_git_blob_checksum(tmp_path, source):
    src, payload = source
    entry = {"url": src.as_uri(), "filename": "corpus.bin", "git_blob": git_blob_of(src)}
    assert fetch(entry, tmp_path / "dest", log=lambda *_: None).read_bytes() == payload


def test_fetch_bad_checksum_leaves_nothing(tmp_path, source):
    src, _ = source
    entry = {"url": src.as_uri(), "filename": "corpus.bin", "sha256": "0" * 64}
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        fetch(entry, tmp_path / "dest", log=lambda *_: None)
    assert list((tmp_path / "dest").iterdir()) == []


def test_fetch_resumes_an_interrupted_download(tmp_path, source):
    src, payload = source
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "corpus.bin.part").write_bytes(payload[:300_000])  # what an interrupted run left
    messages = []
    entry = {"url": src.as_uri(), "filename": "corpus.bin", "sha256": hashlib.sha256(payload).hexdigest()}
    out = fetch(entry, dest, log=messages.append)
    assert out.read_bytes() == payload
    assert any("resuming corpus.bin at byte 300000" in m for m in messages)


def test_fetch_refuses_unchecksummed_entry_unless_accepted(tmp_path, source):
    src, payload = source
    entry = {"url": src.as_uri(), "filename": "corpus.bin"}
    with pytest.raises(RuntimeError, match="no checksum"):
        fetch(entry, tmp_path / "a", log=lambda *_: None)
    assert not (tmp_path / "a/corpus.bin").exists()
    messages = []
    out = fetch(entry, tmp_path / "b", log=messages.append, accept_unverified=True)
    assert out.read_bytes() == payload and any(hashlib.sha256(payload).hexdigest() in m for m in messages)


def test_fetch_cli(tmp_path, source):
    src, payload = source
    remote = tmp_path / "remote.toml"
    remote.write_text(f'[file.x]\nurl = "{src.as_uri()}"\nfilename = "x.bin"\n'
                      f'sha256 = "{hashlib.sha256(payload).hexdigest()}"\n')
    run_norlm("data", "fetch", "x", "--dest", str(tmp_path / "d"), "--remote", str(remote))
    assert (tmp_path / "d/x.bin").read_bytes() == payload
    bad = run_norlm("data", "fetch", "nope", "--dest", str(tmp_path / "d"), "--remote", str(remote), check=False)
    assert bad.returncode == 2 and "unknown entry 'nope'" in bad.stderr
