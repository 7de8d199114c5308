"""bert-train against damaged input and a full disk: a truncated TFRecord is refused at start-up
naming the file, a corrupt record met in training stops with the file named and the last good
checkpoint intact, and a checkpoint write that fills the disk is one line; a rerun with space ends
byte-identical to an undisturbed run."""
from __future__ import annotations

import json
import re
import struct

import pytest

from tests.small_disk import error_lines, resize, small_disk, temporaries

from . import synth
from norlm.bert.data.manifest import file_problems, read_manifest
from norlm.bert.train.checkpoint import read_state
from norlm.cli import main as cli_main

BASE = ["bert-train", *synth.SMOKE, "--phase", "1"]


def _record_offset(path, index: int) -> int:
    data, pos = path.read_bytes(), 0
    for _ in range(index):
        pos += 16 + struct.unpack("<Q", data[pos:pos + 8])[0]
    return pos


def _flip(path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_truncated_tfrecord_refused_at_start(small_work, monkeypatch, capsys):
    monkeypatch.setenv("NORLM_WORK", str(small_work))
    cut = small_work / "bert/tfrecords/phase1/0001.tfrecord"
    size = cut.stat().st_size
    cut.write_bytes(cut.read_bytes()[: size // 2])  # TensorFlow alone reads this to its last whole record, silently
    assert cli_main(BASE) == 2
    err = capsys.readouterr().err
    assert f"{cut}: {size // 2:,} bytes, the manifest says {size:,} (truncated" in err
    assert "norlm bert-data --phase 1" in err and "Traceback" not in err
    assert not (small_work / "bert/phase1").exists()  # refused before any training


def test_same_size_damage_found_by_the_full_check(small_work, monkeypatch, capsys):
    folder = small_work / "bert/tfrecords/phase1"
    path = folder / "0000.tfrecord"
    _flip(path, _record_offset(path, 3) + 20)
    files = sorted(str(p) for p in folder.glob("*.tfrecord"))
    manifest = read_manifest(folder / "manifest.json")
    assert file_problems(manifest, folder, files) == []  # sizes agree
    assert file_problems(manifest, folder, files, full=True) == [
        f"{path}: sha256 differs from the manifest (damaged in place)"]
    monkeypatch.setenv("NORLM_WORK", str(small_work))
    assert cli_main([*BASE, "--verify-data", "sha256"]) == 2
    assert "sha256 differs" in capsys.readouterr().err


def test_manifest_without_file_sizes_still_trains_with_a_warning(small_work, monkeypatch, capsys):
    path = small_work / "bert/tfrecords/phase1/manifest.json"
    old = json.loads(path.read_text())
    old["format"] = 2
    old["files"] = [{"name": f["name"], "instances": f["instances"]} for f in old["files"]]
    path.write_text(json.dumps(old))
    monkeypatch.setenv("NORLM_WORK", str(small_work))
    assert cli_main([*BASE, "--stop-at=2"]) == 0
    assert "records no file sizes (an older bert-data)" in capsys.readouterr().err


def test_corrupt_record_mid_training_names_file_and_keeps_checkpoint(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    (work / "vocab").mkdir(parents=True)
    synth.write_vocab(work / "vocab/vocab.txt", synth.VOCAB)
    paths = synth.write_tfrecords(work / "bert/tfrecords/phase1", 512, synth.SEQ, synth.PRED, synth.VOCAB, files=2)
    # record 80 of the second file: past the 256 records the start-up check reads (all in the first file)
    offset = _record_offset(paths[1], 80)
    _flip(paths[1], offset + 12 + 20)
    monkeypatch.setenv("NORLM_WORK", str(work))
    assert cli_main([*BASE, "bert.phase1.train_steps=40", "bert.save_checkpoints_steps=2"]) == 2
    err = capsys.readouterr().err
    lines = error_lines(err)
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith(f"norlm bert-train: error: {paths[1]}: damaged TFRecord (corrupted record at ")
    last = lines[0].split("last good checkpoint: ")[1].split(";")[0]
    state = read_state(last)  # intact and readable
    assert last.endswith(f"model.ckpt-{state['global_step']}") and 0 < state["global_step"] < 40
    assert not (work / "bert/phase1/final.json").exists()


@pytest.mark.slow
def test_checkpoint_write_on_full_disk_then_rerun_matches(tmp_path, monkeypatch, capsys):
    def prepare(work):
        (work / "vocab").mkdir(parents=True)
        synth.write_vocab(work / "vocab/vocab.txt", synth.VOCAB)
        synth.write_tfrecords(work / "bert/tfrecords/phase1", 256, synth.SEQ, synth.PRED, synth.VOCAB, files=2)
        return work

    monkeypatch.setenv("NORLM_WORK", str(prepare(tmp_path / "undisturbed")))
    assert cli_main(BASE) == 0
    want = tmp_path / "undisturbed/bert/phase1/model.ckpt-10"
    with small_disk(tmp_path / "disk", "3m") as disk:  # one 1.8 MB checkpoint fits, the second does not
        monkeypatch.setenv("NORLM_WORK", str(prepare(disk)))
        out = disk / "bert/phase1"
        capsys.readouterr()
        assert cli_main(BASE) == 2
        refused = capsys.readouterr().err
        m = re.match(rf"norlm bert-train: error: {re.escape(str(out))}: not enough space: needs about ([\d.]+) MB "
                     r"\(2 \+ 1 checkpoints of ([\d.]+) MB\), ([\d.]+) MB free on the file system", refused)
        assert m, refused
        need, each, free = map(float, m.groups())
        assert 1.7 < each < 1.9 and abs(need - 3 * each) < 0.15 and 2.9 < free < 3.2
        assert cli_main([*BASE, "--force"]) == 2
        lines = error_lines(capsys.readouterr().err)
        assert len(lines) == 1 and lines[0].startswith(f"norlm bert-train: error: {out}: no space left (wrote ")
        assert temporaries(disk) == []
        assert sorted(p.name for p in out.glob("model.ckpt-*")) == ["model.ckpt-5.data-00000-of-00001",
                                                                    "model.ckpt-5.index"]
        resize(disk, "8m")
        assert cli_main(BASE) == 0
        for suffix in (".index", ".data-00000-of-00001"):
            assert (out / f"model.ckpt-10{suffix}").read_bytes() == (want.parent / f"{want.name}{suffix}").read_bytes()
