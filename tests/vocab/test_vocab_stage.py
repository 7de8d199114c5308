"""`norlm vocab`: outputs, id layout, clean entries, the report, determinism and bad input."""
from __future__ import annotations

import gzip
import hashlib
import json

import pytest

from norlm.vocab.quality import analyse, kind_of
from norlm.vocab.tokenizer import build_tokenizer, load_tokenizer
from norlm.vocab.vocab_file import read_vocab
from tests.conftest import run_norlm

from . import bert_reference as ref
from .conftest import make_corpus, norec_sentences, ud_texts, write_shard

METHODS = ("spbpe", "wordpiece")


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("method", METHODS)
def test_outputs_and_id_layout(trained, method):
    out = trained[method]["dir"]
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "run-vocab.json", "tokenizer.json", "vocab.txt"]
    lines = (out / "vocab.txt").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) - 1 == 2000  # smoke: vocab.size = 2000, newline-terminated
    lines.pop()
    assert lines[0] == "[PAD]"
    assert lines[1:101] == [f"[unused{i}]" for i in range(100)]
    assert lines[101:105] == ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert not any(line.startswith("[") and line.endswith("]") for line in lines[105:] if len(line) > 1)
    # no duplicates, no empty lines, nothing unreachable (checked two ways)
    assert len(set(lines)) == len(lines) and all(line and line == line.strip() for line in lines)
    q = analyse(read_vocab(out / "vocab.txt"))
    assert q.problems == [] and q.unreachable_total == 0 and q.layout_ok and q.filler_unused == 0
    for token in lines[105:]:
        body = token[2:] if token.startswith("##") else token
        probe = "a" + body if token.startswith("##") else body
        assert ref.basic_tokenize(probe) == [probe], token
    # every alphabet letter is there both word-initially and as a continuation
    for ch in "abcæøåABCÆØÅ0123456789":
        assert ch in lines and "##" + ch in lines
    assert "," in lines and "##," not in lines
    kinds = {k: sum(1 for t in lines if kind_of(t) == k) for k in ("word-initial", "continuation")}
    assert kinds["word-initial"] > 500 and kinds["continuation"] > 300


@pytest.mark.parametrize("method", METHODS)
def test_tokenizer_json_matches_vocab(trained, method):
    out = trained[method]["dir"]
    saved, rebuilt = load_tokenizer(out / "tokenizer.json"), build_tokenizer(out / "vocab.txt")
    texts = ud_texts("test")[:300]
    assert [e.ids for e in saved.encode_batch(texts)] == [e.ids for e in rebuilt.encode_batch(texts)]
    assert saved.get_vocab_size() == 2000


@pytest.mark.parametrize("method", METHODS)
def test_report(trained, method):
    out = trained[method]["dir"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["method"] == method and report["size"] == 2000 and report["unused"] == 100
    assert report["corpus"]["shards"] == ["norec-0000.txt.gz", "wiki-nn-0000.txt.gz"]
    n_norec = len(norec_sentences("train"))
    assert report["corpus"]["lines"] == n_norec + 150 and report["corpus"]["skipped_lines"] == 0
    assert report["corpus"]["documents"] == -(-n_norec // 8) + 150
    ours = report["vocabularies"]["ours"]
    assert list(ours["fertility"]) == ["Bokmaal", "Nynorsk", "all"]
    both = ours["fertility"]["all"]
    # UD 2.7 test word counts (syntactic words, multi-word token ranges left out)
    assert [ours["fertility"][k]["words"] for k in ("Bokmaal", "Nynorsk", "all")] == [29966, 24773, 54739]
    assert 1.3 < both["fertility"] < 2.6 and both["unk_word_rate"] < 0.005
    assert ours["checks"]["unreachable_total"] == 0
    pieces = ours["paper_sentence"]["pieces"]
    assert "".join(p.removeprefix("##") for p in pieces) == ours["paper_sentence"]["text"].replace(" ", "")
    assert "NorBERT (published)" not in report["vocabularies"]  # smoke.toml: reference_vocab = ""
    assert "pieces/word" in trained[method]["stdout"] and "paper sentence" in trained[method]["stdout"]
    record = json.loads((out / "run-vocab.json").read_text(encoding="utf-8"))
    assert record["config"]["vocab"]["size"] == 2000 and record["seed"] == 12345 and record["method"] == method


def test_methods_differ_and_reruns_are_identical(trained, corpus_work):
    spbpe, wordpiece = (trained[m]["dir"] / "vocab.txt" for m in METHODS)
    assert sha(spbpe) != sha(wordpiece)
    for method in METHODS:
        again = corpus_work / f"again-{method}"
        run_norlm("vocab", "--config", "configs/smoke.toml", "--method", method, "--out", str(again),
                  work=corpus_work)
        first = trained[method]["dir"]
        assert sha(again / "vocab.txt") == sha(first / "vocab.txt"), method
        assert sha(again / "tokenizer.json") == sha(first / "tokenizer.json"), method


def test_report_with_published_vocab(tmp_path):
    """Demo-style report: ours next to the published NorBERT vocabulary, on UD 2.7 test text."""
    make_corpus(tmp_path)
    proc = run_norlm("vocab", "--config", "configs/smoke.toml", "vocab.reference_vocab="
                     "norbert_vocab/norwegian_wordpiece_vocab_30k.txt", "vocab.eval_glob="
                     "ud27/UD_Norwegian-Nynorsk/*-test.conllu.gz", "vocab.max_lines=1500", work=tmp_path)
    report = json.loads((tmp_path / "vocab" / "report.json").read_text(encoding="utf-8"))
    assert report["corpus"]["lines"] == 1500  # vocab.max_lines: a uniform sample of 1500 lines, both passes
    trained_on = report["corpus"]["trained_on"]
    assert trained_on["method"].startswith("uniform random sample") and trained_on["lines"] == 1500
    n_norec = len(norec_sentences("train"))
    assert trained_on["of_lines"] == n_norec + 150 and trained_on["seed"] == 12345
    per_shard = trained_on["per_shard"]  # both sources, in proportion (not the first 1500 lines)
    assert sum(per_shard.values()) == 1500 and per_shard["wiki-nn-0000.txt.gz"] > 0
    assert abs(per_shard["wiki-nn-0000.txt.gz"] - 1500 * 150 / (n_norec + 150)) < 30
    assert "trained on a uniform random sample of 1,500" in proc.stdout
    published = report["vocabularies"]["NorBERT (published)"]
    assert published["checks"]["unreachable_total"] == 4384 and published["checks"]["empty_lines"] == [32920]
    nn = published["fertility"]["Nynorsk"]
    assert nn["words"] == report["vocabularies"]["ours"]["fertility"]["Nynorsk"]["words"] > 20000
    assert 1.2 < nn["fertility"] < 1.5
    assert published["paper_sentence"]["pieces"] == [
        "Denne", "gjengen", "håper", "at", "de", "sammen", "skal", "bidra", "til", "å", "gi", "kvinne", "##fotball",
        "##en", "i", "Kristiansand", "et", "lenge", "etterl", "##engt", "##et", "løft"]
    assert "NorBERT (published)" in proc.stdout


def test_empty_corpus_is_a_clear_error(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    proc = run_norlm("vocab", "--config", "configs/smoke.toml", work=tmp_path, check=False)
    assert proc.returncode == 2 and "norlm vocab: error: " in proc.stderr and "no corpus shards" in proc.stderr
    assert str(corpus) in proc.stderr
    write_shard(corpus / "empty-0000.txt.gz", [[""], [" "]])
    proc = run_norlm("vocab", "--config", "configs/smoke.toml", work=tmp_path, check=False)
    assert proc.returncode == 1 and "no text in the 1 corpus shard(s)" in proc.stderr
    assert not (tmp_path / "vocab" / "vocab.txt").exists()
    proc = run_norlm("vocab", "--config", "configs/smoke.toml", work=tmp_path / "nowhere", check=False)
    assert proc.returncode == 2 and "corpus folder not found" in proc.stderr


def test_bad_lines_are_reported_and_counted(tmp_path):
    corpus = make_corpus(tmp_path)
    with gzip.open(corpus / "broken-0000.txt.gz", "wb") as fh:
        fh.write("Første linje er fin.\n".encode() + b"Denne er latin-1: bl\xe5b\xe6r.\n" + "Siste linje.\n".encode())
    proc = run_norlm("vocab", "--config", "configs/smoke.toml", work=tmp_path)
    assert "broken-0000.txt.gz:2: not valid UTF-8" in proc.stderr
    report = json.loads((tmp_path / "vocab" / "report.json").read_text(encoding="utf-8"))
    assert report["corpus"]["skipped_lines"] == 1
    expected = "broken-0000.txt.gz:2: not valid UTF-8 (invalid continuation byte); line skipped"
    assert report["corpus"]["skipped_examples"][0].endswith(expected)


def test_size_too_small_and_unknown_method(tmp_path):
    make_corpus(tmp_path)
    proc = run_norlm("vocab", "--config", "configs/smoke.toml", "vocab.size=300", work=tmp_path, check=False)
    assert proc.returncode == 2 and "vocab.size=300 is too small" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_norlm("vocab", "--config", "configs/smoke.toml", "vocab.method=unigram", work=tmp_path, check=False)
    assert proc.returncode == 2 and "'vocab.method' has value 'unigram'; allowed values: 'spbpe', 'wordpiece'" in proc.stderr
