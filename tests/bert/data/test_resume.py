"""bert-data killed with SIGKILL in the middle of a run (several shards done, several not) resumes:
the rerun rebuilds only the unfinished shards, and every TFRecord file and shard record equals the
uninterrupted run's."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

from norlm.corpus.samples import ndt_documents, write_shards
from tests.conftest import REPO, norlm_env, run_norlm

from .conftest import stage_args

SHARDS = 10


def _outputs(phase_dir) -> dict[str, object]:
    files = {p.name: p.read_bytes() for p in sorted(phase_dir.glob("*.tfrecord"))}
    for p in sorted((phase_dir / "shards").glob("*.json")):
        record = json.loads(p.read_text())
        record.pop("seconds")
        files[f"shards/{p.name}"] = record
    manifest = json.loads((phase_dir / "manifest.json").read_text())
    files["manifest:files"] = manifest["files"]
    files["manifest:instances"] = manifest["instances"]
    return files


def test_kill_9_then_rerun_rebuilds_only_unfinished_shards(tmp_path, tokenizer_json):
    corpus = tmp_path / "corpus"
    write_shards(ndt_documents(), corpus, SHARDS)
    args = stage_args(corpus, tokenizer_json, "--workers", "1", files_per_shard=1, dupe=2)
    run_norlm(*args, work=tmp_path / "whole")
    reference = _outputs(tmp_path / "whole" / "bert" / "tfrecords" / "phase1")

    work = tmp_path / "killed"
    phase = work / "bert" / "tfrecords" / "phase1"
    proc = subprocess.Popen([sys.executable, "-m", "norlm", *args], cwd=REPO, env=norlm_env(work),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while len(list((phase / "shards").glob("*.json"))) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted((phase / "shards").glob("*.json"))
    assert 3 <= len(done) < SHARDS, "the run must be killed with several shards done and several left"
    assert not (phase / "manifest.json").exists()
    kept = {p.name: p.stat().st_mtime_ns for p in phase.glob("*.tfrecord") if p.name[:4] in {d.stem for d in done}}
    assert len(kept) == len(done)

    rerun = run_norlm(*args, work=work)
    assert re.search(rf"\b{len(done)} shard\(s\) already complete", rerun.stdout), rerun.stdout
    assert {n: (phase / n).stat().st_mtime_ns for n in kept} == kept  # finished shards were not rewritten
    assert _outputs(phase) == reference
