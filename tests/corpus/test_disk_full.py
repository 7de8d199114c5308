"""`norlm corpus` on a small tmpfs: refused before work when the estimate does not fit, one line
(folder, bytes written of about how many) when the disk fills during the run, no temporary file
left, and a rerun with space gives the shards and statistics of an undisturbed run."""
from __future__ import annotations

from tests.conftest import run_norlm
from tests.small_disk import error_lines, resize, small_disk, temporaries

SMOKE = ("corpus", "--config", "configs/smoke.toml", "--workers", "2")


def _outputs(corpus_dir):
    return {p.name: p.read_bytes() for p in sorted(corpus_dir.glob("*.txt.gz"))} | {
        "stats.json": (corpus_dir / "stats.json").read_bytes()}


def test_full_disk_is_one_line_and_a_rerun_matches(tmp_path):
    run_norlm(*SMOKE, work=tmp_path / "undisturbed")
    expected = _outputs(tmp_path / "undisturbed" / "corpus")
    with small_disk(tmp_path / "disk", "96k") as disk:
        out = disk / "corpus"
        refused = run_norlm(*SMOKE, work=disk, check=False)
        assert refused.returncode == 2, refused.stderr
        assert error_lines(refused.stderr) == refused.stderr.strip().splitlines()  # nothing but the one line
        assert refused.stderr.startswith(f"norlm corpus: error: {out}: not enough space: needs about ")
        assert "free on the file system" in refused.stderr and "Traceback" not in refused.stderr
        assert not out.exists() or not any(out.rglob("*.gz"))  # refused before any work

        full = run_norlm(*SMOKE, "--force", work=disk, check=False)
        assert full.returncode == 2, full.stderr
        lines = error_lines(full.stderr)
        assert len(lines) == 1 and "Traceback" not in full.stderr
        assert lines[0].startswith(f"norlm corpus: error: {out}: no space left (wrote ")
        assert " kB of about " in lines[0]
        assert temporaries(disk) == []
        assert not (out / "stats.json").exists()

        resize(disk, "4m")
        run_norlm(*SMOKE, work=disk)
        assert temporaries(disk) == []
        assert _outputs(out) == expected
