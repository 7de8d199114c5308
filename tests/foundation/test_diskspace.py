"""norlm.diskspace: the pre-flight refusal, the one-line message of a write that ran out of space,
and which temporary files a rerun removes."""
from __future__ import annotations

import errno
import gzip
import os
import subprocess
import sys

import pytest

from norlm import diskspace
from norlm.diskspace import NoSpaceError, describe_space_error, preflight, remove_stale_temporaries
from norlm.files import atomic_open
from norlm.scale_rates import load_rates


@pytest.fixture(autouse=True)
def _fresh_expectations(monkeypatch):
    monkeypatch.setattr(diskspace, "EXPECTED", [])


def test_preflight_refuses_naming_folder_need_and_free(tmp_path):
    free = diskspace.free_bytes(tmp_path)[0]
    with pytest.raises(NoSpaceError) as info:
        preflight(tmp_path / "out", 10 * free + 1e12, what="test estimate")
    text = str(info.value)
    assert text.startswith(f"{tmp_path / 'out'}: not enough space: needs about ")
    assert "(test estimate)" in text and "free on the file system" in text and "--force" in text
    assert info.value.exit_code == 2


def test_preflight_force_goes_on_with_a_warning(tmp_path, capsys):
    free = diskspace.free_bytes(tmp_path)[0]
    preflight(tmp_path, 10 * free + 1e12, force=True)
    assert "going on (--force)" in capsys.readouterr().err
    preflight(tmp_path, 1000)  # fits: silent
    assert [e.need_bytes for e in diskspace.EXPECTED] == [int(10 * free + 1e12), 1000]


def test_space_error_is_one_line_with_folder_and_sizes(tmp_path):
    (tmp_path / "done.bin").write_bytes(b"x" * 5000)
    preflight(tmp_path, 20_000)
    (tmp_path / "more.bin").write_bytes(b"y" * 8192)
    exc = OSError(errno.ENOSPC, "No space left on device")
    exc.norlm_partial_bytes = 4096
    text = describe_space_error(exc)
    grown = os.stat(tmp_path / "more.bin").st_blocks * 512  # what the disk holds (8.2 kB on 4 kB blocks)
    assert text.startswith(f"{tmp_path}: no space left (wrote {diskspace.human(grown + 4096)} of about 20.0 kB; ")
    assert "\n" not in text
    quota = describe_space_error(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert quota.endswith("the quota is full (EDQUOT)")
    assert "(EIO)" in describe_space_error(OSError(errno.EIO, "Input/output error"))
    # TensorFlow reports the C library's text, not an errno
    tf_like = RuntimeError("{{function_node SaveV2}} /x/model.ckpt-1_temp/part; No space left on device [Op:SaveV2]")
    assert describe_space_error(tf_like).startswith(f"{tmp_path}: no space left (wrote ")
    assert describe_space_error(OSError(errno.ENOENT, "No such file")) is None
    assert describe_space_error(ValueError("bad value")) is None


def test_failed_atomic_write_leaves_nothing_and_notes_its_size(tmp_path):
    with pytest.raises(OSError) as info:
        with atomic_open(tmp_path / "shard.bin", "wb") as fh:
            fh.write(b"z" * 3000)
            fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.norlm_partial_bytes == 3000
    assert sorted(os.listdir(tmp_path)) == []


def test_only_dead_writers_temporaries_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    host = diskspace.temp_tag().split("+")[0]
    names = {
        f".0001.tfrecord.{host}+{dead}+abc123.tmp": True,  # this host, writer gone
        f".0002.tfrecord.{diskspace.temp_tag()}abc123.tmp": False,  # this process: alive
        ".0003.tfrecord.k2abc_9x.tmp": True,  # written before names carried the writer
        ".0004.tfrecord.other-node+12+abc123.tmp": False,  # another host, fresh
        ".0005.tfrecord.other-node+12+abc124.tmp": True,  # another host, untouched for two hours
        "notes.tmp": False,  # not ours
    }
    sub = tmp_path / "shards"
    sub.mkdir()
    for name in names:
        (sub / name).write_text("x")
    old = os.stat(sub / ".0005.tfrecord.other-node+12+abc124.tmp").st_mtime - 7200
    os.utime(sub / ".0005.tfrecord.other-node+12+abc124.tmp", (old, old))
    removed = {p.name for p in remove_stale_temporaries(tmp_path)}
    assert removed == {n for n, stale in names.items() if stale}
    # a process about to exit with an error also drops its own
    assert {p.name for p in remove_stale_temporaries(tmp_path, failing=True)} == {
        f".0002.tfrecord.{diskspace.temp_tag()}abc123.tmp"}


def test_text_bytes_reads_the_gzip_size_field(tmp_path):
    text = ("Dette er en setning.\n" * 5000).encode()
    with gzip.open(tmp_path / "a.txt.gz", "wb") as fh:
        fh.write(text)
    (tmp_path / "b.txt").write_bytes(b"abc\n")
    assert diskspace.text_bytes([tmp_path / "a.txt.gz", tmp_path / "b.txt"]) == len(text) + 4


def test_rate_estimate_uses_the_rates_file():
    rates = load_rates()
    need, how = diskspace.rate_estimate(("bert-data-phase9", "bert-data-phase1"), 1e9, dupe_factor=10)
    assert need == int(rates["bert-data-phase1"].output_bytes(1e9, 10))
    assert "bert-data-phase1" in how and "dupe 10" in how
    assert diskspace.rate_estimate(("no-such-stage",), 1e9)[0] == 0


def test_checkpoint_preflight_counts_kept_checkpoints_and_drops_cut_saves(tmp_path):
    (tmp_path / "model.ckpt-5_temp").mkdir()
    (tmp_path / "model.ckpt-5_temp" / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"p" * 100)
    (tmp_path / "model.ckpt-4.data-00000-of-00001").write_bytes(b"d" * 3000)
    (tmp_path / "model.ckpt-4.index").write_bytes(b"i" * 100)
    diskspace.checkpoint_preflight(tmp_path, 2000, keep=2, force=False, prefix="model.ckpt")
    assert diskspace.EXPECTED[-1].need_bytes == 3 * 2000 - 3100
    assert not (tmp_path / "model.ckpt-5_temp").exists() and (tmp_path / "model.ckpt-4.index").exists()
