"""`norlm bert-data` on a small tmpfs: refused before work when the estimate does not fit, one line
when the disk fills inside a pool worker, no temporary file left, and a rerun with space writes the
files of an undisturbed run; the manifest records each file's size and sha256, and a rerun rebuilds
a file cut short."""
from __future__ import annotations

import json

from tests.conftest import run_norlm
from tests.small_disk import error_lines, resize, small_disk, temporaries

from norlm.corpus.samples import ndt_documents, write_shards
from norlm.files import sha256_file

from .conftest import stage_args


def _outputs(folder):
    names = sorted(p.name for p in folder.glob("*.tfrecord"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("config")  # names the corpus folder
    manifest["inputs"] = [{k: v for k, v in i.items() if k != "path"} for i in manifest["inputs"]]
    return {n: (folder / n).read_bytes() for n in names}, manifest


def test_full_disk_in_a_worker_is_one_line_and_a_rerun_matches(tmp_path, tokenizer_json):
    corpus = tmp_path / "corpus"
    write_shards(ndt_documents(limit_files=24), corpus, 2)
    args = stage_args(corpus, tokenizer_json, "--workers", "2", dupe=2)
    run_norlm(*args, work=tmp_path / "undisturbed")
    expected = _outputs(tmp_path / "undisturbed/bert/tfrecords/phase1")
    total = sum(len(b) for b in expected[0].values())
    assert total > 400_000
    with small_disk(tmp_path / "disk", "256k") as disk:
        out = disk / "bert/tfrecords/phase1"
        refused = run_norlm(*args, work=disk, check=False)
        assert refused.returncode == 2
        assert error_lines(refused.stderr)[0].startswith(
            f"norlm bert-data: error: {out}: not enough space: needs about ")
        assert not list(out.glob("*.tfrecord")) and "Traceback" not in refused.stderr

        full = run_norlm(*args, "--force", work=disk, check=False)
        assert full.returncode == 2, full.stderr
        lines = error_lines(full.stderr)
        assert len(lines) == 1 and "Traceback" not in full.stderr and "RemoteTraceback" not in full.stderr
        assert lines[0].startswith(f"norlm bert-data: error: {out}: no space left (wrote ")
        assert temporaries(disk) == [] and not (out / "manifest.json").exists()

        resize(disk, "8m")
        run_norlm(*args, work=disk)
        assert temporaries(disk) == []
        assert _outputs(out) == expected
        # the manifest describes every file by size and sha256 (what bert-train checks)
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["format"] == 3
        for entry in manifest["files"]:
            assert entry["bytes"] == (out / entry["name"]).stat().st_size
            assert entry["sha256"] == sha256_file(out / entry["name"])

        # a file cut short (an interrupted copy) is rebuilt by a plain rerun, not taken as complete
        cut = out / "0001.tfrecord"
        cut.write_bytes(cut.read_bytes()[:1000])
        rerun = run_norlm(*args, work=disk)
        assert "(1 shard(s) already complete)" in rerun.stdout
        assert _outputs(out) == expected
