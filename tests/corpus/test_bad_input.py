"""Every bad input of the issue: skipped with file and line, counted in stats.json, no crash."""
from __future__ import annotations

import bz2
import gzip
import json

from tests.conftest import run_norlm

from .corpus_tools import REPO, shard_docs, write_config

GOOD = "Dette er en helt vanlig setning om været.\n"


def _make_bad_inputs(d):
    d.mkdir()
    latin = "Tekst uten overskrift først .¶\n##U #http://x>\nHer starter en ekte artikkel .¶\n"
    tokens = "Løse\nord\n.\n<U #http://y>\nEkte\nartikkel\nher\n.\n"
    lines = "".join(f"Linje nummer {i} i en gzip-fil som blir kuttet.\n" for i in range(2000))
    good_gz = gzip.compress(lines.encode())
    dump = (REPO / "data/fixtures/nowiki-20200101-pages-articles.xml.bz2").read_bytes()
    broken = bz2.decompress(dump).replace(b"</page>\n  <page>", b"</page>\n  <page><broken>", 1)
    files = {
        "invalid.txt": GOOD.encode() + b"Ugyldig \xff\xfe tegn her i linja.\n" + b"Siste linje er fin og lang nok.\n",
        "nul.txt": b"Denne linja har en \x00 NUL-byte i seg.\n" + b"Men denne linja er helt i orden.\n",
        "cut.txt.gz": good_gz[: len(good_gz) // 2],
        "empty.txt": b"",
        "huge.txt": GOOD.encode() + b"x" * (10 * 1024 * 1024) + b"\nEtter den lange linja kommer mer tekst.\n",
        "cutwiki-20200101-pages-articles.xml.bz2": dump[: len(dump) // 2],
        "badxmlwiki-20200101-pages-articles.xml.bz2": bz2.compress(broken),
        "bad.xml": b'<?xml version="1.0" encoding="utf-8"?>\n<text>\n<div type="text"><p>Uten slutt</div>\n</text>\n',
        "notype.xml": b'<text><div>Uten type.</div><div type="text"><p>Artikkelen har likevel tekst nok.</p></div>'
                      b'</text>',
        "noheader.txt": latin.encode("latin-1"),
        "noheader-tokens.txt": tokens.encode("latin-1"),
    }
    for name, data in files.items():
        (d / name).write_bytes(data)


def test_every_bad_input_is_skipped_counted_and_located(tmp_path):
    d = tmp_path / "in"
    _make_bad_inputs(d)
    plain = [str(d / n) for n in ("invalid.txt", "nul.txt", "cut.txt.gz", "empty.txt", "huge.txt")]
    cfg = write_config(tmp_path / "c.toml", [
        {"name": "plain", "kind": "plain", "paths": plain},
        {"name": "wiki", "kind": "wikipedia", "paths": [str(d / "*wiki-*.bz2"), str(REPO / "data/fixtures/nn*.bz2")]},
        {"name": "xml", "kind": "nak-xml", "paths": [str(d / "bad.xml"), str(d / "notype.xml")]},
        {"name": "text", "kind": "nak-text", "paths": [str(d / "noheader.txt")]},
        {"name": "tokens", "kind": "nak-tokens", "paths": [str(d / "noheader-tokens.txt")]},
    ])
    work = tmp_path / "w"
    proc = run_norlm("corpus", "--config", str(cfg), work=work)
    stats = json.loads((work / "corpus/stats.json").read_text())["sources"]
    assert stats["plain"]["bad_input"] == {"empty-file": 1, "invalid-encoding": 1, "line-too-long": 1,
                                           "nul-bytes": 1, "truncated-file": 1}
    assert stats["wiki"]["bad_input"] == {"malformed-xml": 1, "truncated-file": 1}
    assert stats["xml"]["bad_input"] == {"div-without-type": 1, "malformed-xml": 1}
    assert stats["text"]["bad_input"] == {"missing-header": 1}
    assert stats["tokens"]["bad_input"] == {"missing-header": 1}
    err = proc.stderr
    for where in (f"{d}/invalid.txt:2: invalid-encoding", f"{d}/nul.txt:1: nul-bytes",
                  f"{d}/huge.txt:2: line-too-long", f"{d}/empty.txt: empty-file", f"{d}/cut.txt.gz:",
                  f"{d}/bad.xml:3: malformed-xml",
                  f"{d}/noheader.txt:1: missing-header", f"{d}/noheader-tokens.txt:1: missing-header",
                  f"{d}/cutwiki-20200101-pages-articles.xml.bz2: truncated-file"):
        assert where in err, where
    # the good records around the bad ones survive
    kept = [s for doc in shard_docs(work / "corpus", "plain") for s in doc]
    assert kept[:5] == [GOOD.strip(), "Siste linje er fin og lang nok.", "Men denne linja er helt i orden.",
                        "Linje nummer 0 i en gzip-fil som blir kuttet.",
                        "Linje nummer 1 i en gzip-fil som blir kuttet."]
    assert kept[-1] == "Etter den lange linja kommer mer tekst."
    assert shard_docs(work / "corpus", "text") == [["Her starter en ekte artikkel."]]
    assert shard_docs(work / "corpus", "tokens") == [["Ekte artikkel her."]]
    assert shard_docs(work / "corpus", "xml") == [["Artikkelen har likevel tekst nok."]]
    wiki_first = [doc[0] for doc in shard_docs(work / "corpus", "wiki")]
    assert "Oslo er hovedstaden i Norge og landets største by." in wiki_first  # pages before the break kept
    assert "Bergen er ein by og kommune på Vestlandet." in wiki_first


def test_exit_code_nonzero_only_when_a_source_yields_nothing(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "ok.txt").write_text(GOOD)
    cfg = write_config(tmp_path / "c.toml", [
        {"name": "ok", "kind": "plain", "paths": [str(tmp_path / "ok.txt")]},
        {"name": "nothing", "kind": "plain", "paths": [str(tmp_path / "empty.txt"), str(tmp_path / "missing-*.txt")]},
    ])
    proc = run_norlm("corpus", "--config", str(cfg), work=tmp_path / "w", check=False)
    assert proc.returncode == 1
    assert "source 'nothing' yielded no text" in proc.stderr
    assert not (tmp_path / "w/corpus/stats.json").exists()  # no completion file for make
    stats = json.loads((tmp_path / "w/corpus/stats-failed.json").read_text())
    assert stats["empty_sources"] == ["nothing"]
    assert stats["sources"]["nothing"]["bad_input"] == {"empty-file": 1, "no-such-input": 1}
    assert stats["sources"]["ok"]["sentences"] == 1
    # fixing the input makes the next run complete
    (tmp_path / "empty.txt").write_text(GOOD.replace("vanlig", "annen"))
    run_norlm("corpus", "--config", str(cfg), work=tmp_path / "w")
    assert not (tmp_path / "w/corpus/stats-failed.json").exists()
    assert json.loads((tmp_path / "w/corpus/stats.json").read_text())["empty_sources"] == []
