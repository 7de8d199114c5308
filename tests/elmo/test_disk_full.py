"""elmo-train on a small tmpfs: refused before training when keep + 1 checkpoints do not fit, one
line when a checkpoint write fills the disk (no temporary file or folder left, the previous
checkpoint kept), and a rerun with space ends byte-identical to an undisturbed run."""
from __future__ import annotations

import pytest

from tests.conftest import run_norlm
from tests.small_disk import error_lines, resize, small_disk, temporaries

from .test_damaged_shards import SMOKE, _corpus

CKPT_FILES = ("ckpt-40.data-00000-of-00001", "ckpt-40.index", "ckpt-40.rank0.npz")


@pytest.mark.slow
def test_checkpoint_write_on_full_disk_then_rerun_matches(tmp_path):
    _corpus(tmp_path)
    train = ("elmo-train", *SMOKE, "--no-progress")
    run_norlm(*train, "--out", str(tmp_path / "undisturbed"), work=tmp_path)
    with small_disk(tmp_path / "disk", "400k") as disk:  # one 0.3 MB checkpoint fits, the second does not
        out = disk / "train"
        refused = run_norlm(*train, "--out", str(out), work=tmp_path, check=False)
        assert refused.returncode == 2
        assert error_lines(refused.stderr)[0].startswith(
            f"norlm elmo-train: error: {out / 'ckpt'}: not enough space: needs about ")
        assert "(2 + 1 checkpoints of 0.3 MB)" in refused.stderr
        full = run_norlm(*train, "--out", str(out), "--force", work=tmp_path, check=False)
        lines = error_lines(full.stderr)
        assert full.returncode == 2 and "Traceback" not in full.stderr, full.stderr[-2000:]
        assert len(lines) == 1 and lines[0].startswith(f"norlm elmo-train: error: {out / 'ckpt'}: no space left (wrote ")
        assert temporaries(disk) == []
        assert sorted(p.name for p in (out / "ckpt").iterdir()) == [
            "ckpt-8.data-00000-of-00001", "ckpt-8.index", "ckpt-8.rank0.npz", "latest.json"]
        resize(disk, "4m")
        run_norlm(*train, "--out", str(out), work=tmp_path)
        for name in CKPT_FILES:
            assert (out / "ckpt" / name).read_bytes() == (tmp_path / "undisturbed/ckpt" / name).read_bytes()
