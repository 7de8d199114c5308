"""The corpus stage at (small) scale on bench/synth_corpus.py text: dedup recovers the injected
duplicate rates in every input format, and a run killed with SIGKILL resumes, redoing only the
units it had not finished, with output byte-identical to an uninterrupted run."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, norlm_env, run_norlm


def synth(out: Path, mb: float, mix: str, file_mb: float) -> dict:
    subprocess.run([sys.executable, str(REPO / "bench" / "synth_corpus.py"), str(out), "--mb", str(mb),
                    "--mix", mix, "--file-mb", str(file_mb)], check=True, capture_output=True, timeout=300)
    return json.loads((out / "truth.json").read_text())


def config(path: Path, corpus_dir: Path, workers: int = 1) -> Path:
    path.write_text(f'[run]\nname = "t"\nworkers = {workers}\n\n[corpus]\nshard_mb = 0.5\n\n'
                    + (corpus_dir / "corpus.toml").read_text(), encoding="utf-8")
    return path


def test_dedup_recovers_the_injected_rates(tmp_path):
    truth = synth(tmp_path / "in", 2.5, "paper", 0.4)
    assert truth["total"]["exact_dups"] > 300 and truth["total"]["near_docs"] > 10
    run_norlm("corpus", "--config", str(config(tmp_path / "c.toml", tmp_path / "in")), "--near-dedup",
              work=tmp_path / "w")
    stats = json.loads((tmp_path / "w" / "corpus" / "stats.json").read_text())["sources"]
    for name, want in truth["sources"].items():
        got = stats[name]
        assert abs(got["duplicates_within"] + got["duplicates_across"] - want["exact_dups"]) <= 0.01 * want["exact_dups"]
        assert abs(got["near_duplicate_documents"] - want["near_docs"]) <= 0.01 * want["near_docs"], name
        assert got["before_dedup"]["documents"] >= want["documents"] - 2  # a stub or two may be dropped


def _outputs(corpus: Path) -> dict[str, bytes]:
    names = [p.name for p in corpus.glob("*.txt.gz")] + ["stats.json"]
    return {n: (corpus / n).read_bytes() for n in sorted(names)}


def test_kill_9_then_rerun_redoes_only_unfinished_units(tmp_path):
    synth(tmp_path / "in", 2.4, "plain", 0.15)
    cfg = config(tmp_path / "c.toml", tmp_path / "in")
    run_norlm("corpus", "--config", str(cfg), work=tmp_path / "whole")
    reference = _outputs(tmp_path / "whole" / "corpus")
    assert len(reference) >= 5

    work = tmp_path / "killed"
    parts = work / "corpus" / "parts" / "plain"
    proc = subprocess.Popen([sys.executable, "-m", "norlm", "corpus", "--config", str(cfg)], cwd=REPO,
                            env=norlm_env(work), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while len(list(parts.glob("*.json"))) < 4 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p: p.stat().st_mtime_ns for p in parts.glob("*.json")}
    units = len(list((tmp_path / "in" / "plain").iterdir()))
    assert 4 <= len(done) < units, "the run must be killed with several units done and several left"
    assert not (work / "corpus" / "stats.json").exists()

    rerun = run_norlm("corpus", "--config", str(cfg), work=work)
    reused = re.search(r"step 1: rank 0: (\d+) of (\d+) units reused", rerun.stderr)
    assert reused and (int(reused[1]), int(reused[2])) == (len(done), units)
    assert all(p.stat().st_mtime_ns == t for p, t in done.items())  # finished parts were not rewritten
    assert _outputs(work / "corpus") == reference


def test_synthesiser_is_deterministic_by_seed(tmp_path):
    a, b = synth(tmp_path / "a", 0.3, "paper", 0.1), synth(tmp_path / "b", 0.3, "paper", 0.1)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) >= 7 and a["total"] == b["total"]
    for rel in files:
        if rel.name != "corpus.toml":  # names its own folder
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    subprocess.run([sys.executable, str(REPO / "bench" / "synth_corpus.py"), str(tmp_path / "c"), "--mb", "0.3",
                    "--file-mb", "0.1", "--seed", "2"], check=True, capture_output=True, timeout=300)
    assert (tmp_path / "c" / "nak-text" / "nak-text-0000.txt").read_bytes() != \
        (tmp_path / "a" / "nak-text" / "nak-text-0000.txt").read_bytes()
