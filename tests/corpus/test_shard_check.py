"""norlm.corpus.shard_check: shards against the stats.json the corpus stage wrote."""
from __future__ import annotations

import gzip
import json

import pytest

from norlm.corpus.shard_check import DamagedShardError, check_shards, shard_problems
from norlm.elmo.text import read_sentences
from norlm.files import sha256_file


def _shards(folder, n=3):
    folder.mkdir()
    paths = []
    for i in range(n):
        path = folder / f"src-{i:04d}.txt.gz"
        with gzip.GzipFile(path, "wb", mtime=0) as fh:
            fh.write("".join(f"Setning {j} i fil {i} .\n" for j in range(400)).encode())
        paths.append(path)
    shards = [{"file": p.name, "bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in paths]
    (folder / "stats.json").write_text(json.dumps({"sources": {"src": {"shards": shards}}}))
    return paths


def test_whole_shards_pass_and_damage_is_named(tmp_path):
    paths = _shards(tmp_path / "corpus")
    assert check_shards(paths) == "3 shard(s), sizes checked"
    assert check_shards(paths, full=True) == "3 shard(s), sizes and sha256 checked"
    size = paths[1].stat().st_size
    paths[1].write_bytes(paths[1].read_bytes()[:100])
    data = bytearray(paths[2].read_bytes())
    data[len(data) // 2] ^= 0xFF
    paths[2].write_bytes(bytes(data))
    stats = tmp_path / "corpus/stats.json"
    assert shard_problems(paths) == [f"{paths[1]}: 100 bytes, {stats} says {size:,} (truncated: an interrupted "
                                     "copy or a full quota?)"]
    assert shard_problems(paths, full=True)[1] == f"{paths[2]}: sha256 differs from {stats} (damaged in place)"
    assert shard_problems(paths[1:])[-1] == f"{paths[0]}: listed in {stats} but missing"
    with pytest.raises(DamagedShardError, match="1 corpus shard"):
        check_shards(paths)


def test_reading_a_damaged_shard_names_file_and_line(tmp_path):
    path = _shards(tmp_path / "corpus", n=1)[0]
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DamagedShardError) as info:
        list(read_sentences(path))
    assert str(info.value).startswith(f"{path}:")
    assert "damaged corpus shard (EOFError: Compressed file ended" in str(info.value)


def test_folders_without_a_record_are_not_checked(tmp_path):
    paths = _shards(tmp_path / "corpus")
    (tmp_path / "corpus/stats.json").unlink()
    paths[0].write_bytes(b"")
    assert shard_problems(paths) == []
