"""elmo-train against damaged corpus shards: a shard cut short is refused at start-up naming the
file (checked against corpus/stats.json), and a shard corrupted in place (same size) met during
training stops the run with the file named and the last checkpoint intact, never a traceback."""
from __future__ import annotations

import gzip
import json

from tests.conftest import DATA, run_norlm
from tests.small_disk import error_lines

from norlm.elmo.checkpoint import read_weights
from norlm.elmo.data import SentenceSource
from norlm.files import sha256_file

SMOKE = ("--config", "configs/smoke.toml")
SEED = 12345  # configs/smoke.toml run.seed


def _corpus(work, n_shards: int = 8, docs_per_shard: int = 3) -> list:
    """Small shards with the record the corpus stage writes (stats.json: file, bytes, sha256)."""
    corpus = work / "corpus"
    corpus.mkdir(parents=True)
    with gzip.open(DATA / "wikipedia_sample/wikipedia_100k/wiki_no.txt.gz", "rt", encoding="utf-8") as fh:
        docs = [d for d in fh.read().splitlines() if d.strip()]
    paths, entries = [], []
    for s in range(n_shards):
        path = corpus / f"wiki-{s:04d}.txt.gz"
        text = "".join(doc.replace(" . ", " .\n") + "\n\n" for doc in docs[s * docs_per_shard:(s + 1) * docs_per_shard])
        with gzip.GzipFile(path, "wb", mtime=0) as out:
            out.write(text.encode("utf-8"))
        paths.append(path)
        entries.append({"file": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path),
                        "sentences": text.count("\n")})
    (corpus / "stats.json").write_text(json.dumps({"sources": {"wiki": {"shards": entries}}}))
    run_norlm("elmo-vocab", *SMOKE, work=work)
    return paths


def test_truncated_shard_refused_at_start(tmp_path):
    shards = _corpus(tmp_path)
    cut = shards[3]
    size = cut.stat().st_size
    cut.write_bytes(cut.read_bytes()[: size // 2])
    proc = run_norlm("elmo-train", *SMOKE, "--no-progress", work=tmp_path, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert error_lines(proc.stderr) == [
        f"norlm elmo-train: error: 1 corpus shard(s) do not match the corpus record: {cut}: {size // 2:,} bytes, "
        f"{cut.parent / 'stats.json'} says {size:,} (truncated: an interrupted copy or a full quota?); "
        "rebuild with `norlm corpus --force` or copy them again"]
    assert not (tmp_path / "elmo/train/ckpt/latest.json").exists()


def test_corrupt_shard_mid_training_names_file_and_keeps_checkpoint(tmp_path):
    shards = _corpus(tmp_path)
    # a shard both directions reach only third or later (after a checkpoint), not the held-out one (last)
    orders = [SentenceSource(shards, SEED * 1000 * 2 + d, reverse=bool(d))._order() for d in (0, 1)]
    late = [i for i in range(len(shards) - 1) if all(order.index(i) >= 2 for order in orders)]
    bad = shards[late[0]]
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: passes the start-up check, fails when read
    bad.write_bytes(bytes(data))
    proc = run_norlm("elmo-train", *SMOKE, "--no-progress", "elmo.save_every=4",
                     work=tmp_path, check=False)
    lines = error_lines(proc.stderr)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith(f"norlm elmo-train: error: {bad}:"), lines
    assert ": damaged corpus shard (" in lines[0] and "stopping without saving" in lines[0]
    ckpt_dir = tmp_path / "elmo/train/ckpt"
    step = json.loads((ckpt_dir / "latest.json").read_text())["step"]
    assert lines[0].endswith(f"last good checkpoint: {ckpt_dir / f'ckpt-{step}'}")
    assert step >= 1 and (ckpt_dir / f"ckpt-{step}.index").exists()
    assert not (tmp_path / "elmo/train/final.json").exists()
    weights, saved = read_weights(tmp_path / "elmo/train")  # intact: the export reader loads it
    assert saved == step and "lm/softmax/W" in weights
