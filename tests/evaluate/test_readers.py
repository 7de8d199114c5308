"""The readers reproduce the published split sizes and report bad records with file and line."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from norlm.evaluate.readers import DataError, read_conllu, read_ndt_split, read_norec_csv

DATA = Path(__file__).resolve().parents[2] / "data"
UD = DATA / "ud27"
NORNE = DATA / "norne"


def _size(result):
    return len(result.records), sum(len(s.words) for s in result.records)


@pytest.mark.parametrize("path, sentences, tokens", [
    ("UD_Norwegian-Bokmaal/no_bokmaal-ud-dev.conllu.gz", 2409, 36369),
    ("UD_Norwegian-Bokmaal/no_bokmaal-ud-test.conllu.gz", 1939, 29966),
    ("UD_Norwegian-Nynorsk/no_nynorsk-ud-dev.conllu.gz", 1890, 31250),
    ("UD_Norwegian-Nynorsk/no_nynorsk-ud-test.conllu.gz", 1511, 24773),
])
def test_ud27_sizes(path, sentences, tokens):
    result = read_conllu(UD / path)
    assert _size(result) == (sentences, tokens)
    assert result.skipped == 0
    assert all(len(s.upos) == len(s.words) and not s.ner for s in result.records)
    if path.endswith("bokmaal-ud-dev.conllu.gz"):
        assert result.records[0].words[:3] == ["Dommer", "Finn", "Eilertsen"]
        assert result.records[0].upos[:3] == ["NOUN", "PROPN", "PROPN"]


@pytest.mark.parametrize("lang, split, sentences, tokens, per, org", [
    ("nob", "dev", 2410, 36369, 611, 404), ("nob", "test", 1939, 29966, 564, 285),
    ("nno", "dev", 1890, 31250, 481, 284), ("nno", "test", 1511, 24773, 397, 236),
])
def test_norne_ud_sizes(lang, split, sentences, tokens, per, org):
    prefix = "no_bokmaal" if lang == "nob" else "no_nynorsk"
    result = read_conllu(NORNE / "ud" / lang / f"{prefix}-ud-{split}.conllu.gz")
    assert _size(result) == (sentences, tokens)
    begins = Counter(t[2:] for s in result.records for t in s.ner if t.startswith("B-"))
    assert (begins["PER"], begins["ORG"]) == (per, org)


@pytest.mark.parametrize("lang, sentences, tokens, per", [("nob", 15696, 243906, 4070), ("nno", 14174, 245360, 4250)])
def test_norne_train_rebuilt_from_ndt(lang, sentences, tokens, per):
    result = read_ndt_split(NORNE / "ndt", NORNE / "norne_ndt_split.tsv", lang, "train")
    assert _size(result) == (sentences, tokens)
    assert not any("|" in s.words for s in result.records)
    assert Counter(t for s in result.records for t in s.ner)["B-PER"] == per


def test_norne_dev_rebuilt_matches_ud_file():
    rebuilt = read_ndt_split(NORNE / "ndt", NORNE / "norne_ndt_split.tsv", "nob", "dev")
    ud = read_conllu(NORNE / "ud" / "nob" / "no_bokmaal-ud-dev.conllu.gz")
    assert [s.words for s in rebuilt.records] == [s.words for s in ud.records]
    assert [s.ner for s in rebuilt.records] == [s.ner for s in ud.records]


@pytest.mark.parametrize("split, total, positive", [("train", 2675, 1766), ("dev", 516, 357), ("test", 417, 299)])
def test_norec_sentence_sizes(split, total, positive):
    result = read_norec_csv(DATA / "norec_sentence" / "binary" / f"{split}.csv")
    assert len(result.records) == total
    assert Counter(r.label for r in result.records)["positive"] == positive


def test_bad_conllu_sentence_is_skipped_with_file_and_line(tmp_path):
    path = tmp_path / "bad.conllu"
    good = "1\tHei\thei\tINTJ\t_\t_\t0\troot\t_\tname=O\n"
    path.write_text("# sent_id = 1\n" + good + "\n" + good + "2\tbroken line\n\n" + good + "\n", encoding="utf-8")
    result = read_conllu(path)
    assert len(result.records) == 2 and result.skipped == 1
    assert result.problems == [f"{path}:5: 2 columns, expected 10"]
    assert result.records[0].ner == ["O"]


def test_bad_csv_rows_are_counted(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('1,Bra film .\n2,Ukjent etikett\n0,"Dårlig , kjedelig ."\nbare ett felt\n', encoding="utf-8")
    result = read_norec_csv(path)
    assert [(r.label, r.words) for r in result.records] == [("positive", ["Bra", "film", "."]),
                                                            ("negative", ["Dårlig", ",", "kjedelig", "."])]
    assert result.skipped == 2
    assert f"{path}:2:" in result.problems[0] and f"{path}:4:" in result.problems[1]


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(DataError, match="nowhere.conllu"):
        read_conllu(tmp_path / "nowhere.conllu")
