"""`norlm corpus` end to end: dedup, near-dedup, reruns, workers and MPI ranks give the same shards."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys

from tests.conftest import REPO, mpirun_cmd, norlm_env, run_norlm

from .corpus_tools import NAK, shard_docs, write_config

LONG_A = "Bergen er en by på Vestlandet med mye regn."
LONG_B = "Oslo er hovedstaden i Norge og har mange innbyggere."
SHORT = "Ja, takk."  # under 5 words: repeats are kept


def _sources(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text(f"{LONG_A} {SHORT}\n{LONG_B} {SHORT}\n{LONG_A}\n", encoding="utf-8")  # 3 docs
    b = tmp_path / "b.txt"
    b.write_text(f"Dette er en ny og annerledes setning her. {LONG_B.upper()}\n", encoding="utf-8")
    return [{"name": "a", "kind": "plain", "paths": [str(a)]}, {"name": "b", "kind": "plain", "paths": [str(b)]}]


def test_exact_dedup_within_and_across_sources(tmp_path):
    cfg = write_config(tmp_path / "c.toml", _sources(tmp_path))
    work = tmp_path / "w"
    run_norlm("corpus", "--config", str(cfg), work=work)
    assert shard_docs(work / "corpus", "a") == [[LONG_A, SHORT], [LONG_B, SHORT]]  # 3rd doc emptied by dedup
    assert shard_docs(work / "corpus", "b") == [["Dette er en ny og annerledes setning her."]]  # case-folded match
    stats = json.loads((work / "corpus/stats.json").read_text())["sources"]
    assert (stats["a"]["duplicates_within"], stats["a"]["duplicates_across"]) == (1, 0)
    assert (stats["b"]["duplicates_within"], stats["b"]["duplicates_across"]) == (0, 1)
    assert stats["a"]["dropped"] == {"empty-after-dedup": 1}
    assert stats["a"]["before_dedup"]["sentences"] == 5 and stats["a"]["sentences"] == 4


def test_near_duplicate_documents_behind_a_flag(tmp_path):
    words = ("Kommunestyret vedtok i går kveld en ny plan for skoler, barnehager, veier og parker i sentrum "
             "etter en lang debatt om penger og prioriteringer i mange år framover for hele byen").split()
    doc1 = " ".join(words) + "."
    doc2 = " ".join(words[:-1] + ["bygda"]) + "."  # one word differs
    doc3 = "Fotballaget vant kampen på hjemmebane etter et mål i siste minutt av den andre omgangen."
    path = tmp_path / "n.txt"
    path.write_text(f"{doc1}\n{doc2}\n{doc3}\n", encoding="utf-8")
    cfg = write_config(tmp_path / "c.toml", [{"name": "n", "kind": "plain", "paths": [str(path)]}])
    run_norlm("corpus", "--config", str(cfg), work=tmp_path / "plain")
    assert len(shard_docs(tmp_path / "plain/corpus", "n")) == 3
    run_norlm("corpus", "--config", str(cfg), "--near-dedup", work=tmp_path / "near")
    assert shard_docs(tmp_path / "near/corpus", "n") == [[doc1], [doc3]]
    stats = json.loads((tmp_path / "near/corpus/stats.json").read_text())["sources"]["n"]
    assert stats["near_duplicate_documents"] == 1


def _mixed_config(tmp_path, workers=1):
    sources = _sources(tmp_path) + [
        {"name": "tok", "kind": "nak-tokens", "paths": [str(NAK / "tokens")]},
        {"name": "txt", "kind": "nak-text", "paths": [str(NAK / "text")]},
        {"name": "xml", "kind": "nak-xml", "paths": [str(NAK / "xml/*/*")]},
        {"name": "ndt", "kind": "ndt", "paths": [str(REPO / "data/norne/ndt/nno/blogg-nn00[12]_*.conll.gz")],
         "lang": "nn", "split": "train"},
        {"name": "wiki", "kind": "wikipedia", "paths": [str(REPO / "data/fixtures/nowiki-*.bz2")]},
    ]
    # a tiny shard bound so that sources spill over several shards
    return write_config(tmp_path / f"mixed{workers}.toml", sources, corpus="shard_mb = 0.01", workers=workers)


def _outputs(corpus_dir):
    return {p.name: p.read_bytes() for p in sorted(corpus_dir.iterdir()) if p.name.endswith((".txt.gz", "stats.json"))}


def test_rerun_skips_and_outputs_are_byte_identical(tmp_path):
    cfg = _mixed_config(tmp_path)
    work = tmp_path / "w"
    run_norlm("corpus", "--config", str(cfg), work=work)
    first = _outputs(work / "corpus")
    assert len([n for n in first if n.startswith("ndt-")]) >= 2  # shard bound respected
    for name, data in first.items():
        if name.endswith(".gz"):
            text = gzip.decompress(data)
            assert len(text) <= 10_000 or b"\n\n" not in text, name  # over the bound only as a single document
    mtimes = {p.name: p.stat().st_mtime_ns for p in (work / "corpus").iterdir()}
    proc = run_norlm("corpus", "--config", str(cfg), work=work)
    assert "up to date" in proc.stdout
    assert {p.name: p.stat().st_mtime_ns for p in (work / "corpus").iterdir()} == mtimes
    run_norlm("corpus", "--config", str(cfg), "--force", work=work)
    assert _outputs(work / "corpus") == first
    # a changed input invalidates the skip and only that unit's part is rebuilt
    part_a, part_b = work / "corpus/parts/a/000000.txt.gz", work / "corpus/parts/b/000000.txt.gz"
    before = part_a.stat().st_mtime_ns, part_b.stat().st_mtime_ns
    (tmp_path / "b.txt").write_text("En helt annen tekst i fil b nå for tiden.\n", encoding="utf-8")
    run_norlm("corpus", "--config", str(cfg), work=work)
    assert shard_docs(work / "corpus", "b") == [["En helt annen tekst i fil b nå for tiden."]]
    assert part_a.stat().st_mtime_ns == before[0] and part_b.stat().st_mtime_ns != before[1]


def test_two_workers_and_two_mpi_ranks_match_one_process(tmp_path):
    single = tmp_path / "single"
    run_norlm("corpus", "--config", str(_mixed_config(tmp_path)), work=single)
    reference = _outputs(single / "corpus")
    run_norlm("corpus", "--config", str(_mixed_config(tmp_path, workers=2)), work=tmp_path / "pool")
    assert _outputs(tmp_path / "pool/corpus") == reference
    # under MPI also split dedup into 8 hash buckets (memory bound) spread over the ranks
    cmd = mpirun_cmd(2) + [sys.executable, "-m", "norlm", "corpus", "--config", str(_mixed_config(tmp_path)),
                           "corpus.dedup_max_entries=100"]
    proc = subprocess.run(cmd, cwd=REPO, env=norlm_env(tmp_path / "mpi"), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 rank(s)" in proc.stdout
    assert _outputs(tmp_path / "mpi/corpus") == reference
    assert len(list((tmp_path / "mpi/corpus/parts/dups").glob("lines-03-*.npy"))) == 8
    run = json.loads((tmp_path / "mpi/corpus/run-corpus.json").read_text())
    assert run["ranks"] == 2


def test_stanza_without_models_is_a_clear_error(tmp_path):
    cfg = write_config(tmp_path / "c.toml", _sources(tmp_path))
    proc = run_norlm("corpus", "--config", str(cfg), "--segmenter", "stanza", work=tmp_path / "w", check=False,
                     env=norlm_env(tmp_path / "w", STANZA_RESOURCES_DIR=str(tmp_path / "none")))
    assert proc.returncode == 2
    assert f"no 'nb' tokenize model in {tmp_path / 'none'}" in proc.stderr
    assert "stanza.download('nb', processors='tokenize'" in proc.stderr
    assert not (tmp_path / "w/corpus/stats.json").exists()


def test_smoke_config_gives_enough_text_for_the_later_stages(tmp_path):
    run_norlm("corpus", "--config", "configs/smoke.toml", work=tmp_path)
    stats = json.loads((tmp_path / "corpus/stats.json").read_text())
    assert stats["total"]["sentences"] >= 500 and stats["total"]["documents"] >= 20
    assert sorted(stats["sources"]) == ["ndt-nb", "ndt-nn", "wikisample-nb", "wikisample-nn"]
    assert all(s["sentences"] > 0 and len(s["shards"]) == 1 for s in stats["sources"].values())
    assert (tmp_path / "corpus/run-corpus.json").is_file()
