"""Char ids (bilm-tf UnicodeCharsVocabulary), the tokeniser, and the elmo-vocab stage."""
from __future__ import annotations

import gzip
import json


from tests.conftest import run_norlm
from norlm.elmo.chars import batch_inference_ids, word_char_ids
from norlm.elmo.text import tokenize


def test_char_ids_bytes_specials_and_truncation():
    row = word_char_ids("på")
    assert row.tolist()[:6] == [258, ord("p"), 0xC3, 0xA5, 259, 260]
    assert (row[5:] == 260).all() and row.shape == (50,)
    assert word_char_ids("<S>").tolist()[:4] == [258, 256, 259, 260]
    assert word_char_ids("</S>").tolist()[:4] == [258, 257, 259, 260]
    long = "æ" * 35  # 70 bytes -> cut to 48 bytes, EOW in the last slot
    row = word_char_ids(long)
    assert row[1:49].tolist() == [0xC3, 0xA6] * 24 and row[49] == 259


def test_inference_ids_shift_and_padding():
    ids = batch_inference_ids([["Hei", "på"], ["ø"]])
    assert ids.shape == (2, 4, 50)
    assert ids[0, 0, :3].tolist() == [259, 257, 260]        # <S> shifted by one
    assert ids[1, 2, :3].tolist() == [259, 258, 260]        # </S> right after the one word
    assert (ids[1, 3] == 0).all()                           # beyond the sentence: all zeros
    assert ids[1, 1, :4].tolist() == [259, 0xC3 + 1, 0xB8 + 1, 260]


def test_tokenizer_rules():
    assert tokenize("Nord-Norge hadde 1,5 mill. innbyggere (ca.) i 2020!") == [
        "Nord-Norge", "hadde", "1,5", "mill", ".", "innbyggere", "(", "ca", ".", ")", "i", "2020", "!"]


def test_elmo_vocab_order_counts_and_bad_lines(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with gzip.open(corpus / "a-0000.txt.gz", "wb") as fh:
        fh.write("b b b a a c\nc c d\n\n".encode() + b"bad \xff line\n" + "a c ø\n".encode())
    proc = run_norlm("elmo-vocab", "--config", "configs/smoke.toml", "elmo.vocab_size=3", work=tmp_path)
    vocab = (tmp_path / "elmo" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    # c:4, a:3, b:3 (tie broken alphabetically), d and ø left out
    assert vocab == ["<S>", "</S>", "<UNK>", "c", "a", "b"]
    counts = json.loads((tmp_path / "elmo" / "counts.json").read_text())
    assert counts["n_train_tokens"] == 12 and counts["sentences"] == 3 and counts["documents"] == 2
    assert counts["skipped_lines"] == 1 and "a-0000.txt.gz:4" in counts["skipped_examples"][0]
    assert "a-0000.txt.gz:4" in proc.stderr


def test_elmo_vocab_empty_corpus_fails(tmp_path):
    (tmp_path / "corpus").mkdir()
    proc = run_norlm("elmo-vocab", "--config", "configs/smoke.toml", work=tmp_path, check=False)
    assert proc.returncode == 2 and "norlm elmo-vocab: error: no corpus shards" in proc.stderr
    (tmp_path / "corpus" / "x-0000.txt").write_text("\n\n")
    proc = run_norlm("elmo-vocab", "--config", "configs/smoke.toml", work=tmp_path, check=False)
    assert proc.returncode == 2 and "norlm elmo-vocab: error: no usable words" in proc.stderr
    assert not (tmp_path / "elmo" / "vocab.txt").exists()
