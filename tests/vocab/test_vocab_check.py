"""vocab-check: the published NorBERT vocabulary's known defects, and clean files pass."""
from __future__ import annotations

import json

import pytest

from norlm.vocab.quality import analyse, kind_of, unreachable_reason
from norlm.vocab.vocab_file import read_vocab
from tests.conftest import run_norlm

from . import bert_reference as ref
from .conftest import PUBLISHED


@pytest.fixture(scope="module")
def published():
    return analyse(read_vocab(PUBLISHED))


def test_published_layout_and_kinds(published):
    """bert-recipe §3.5: 32,922 lines = 4,334 [unused] + 5 specials + 28,582 real entries + 1 empty line."""
    q = published
    assert q.lines == 32922
    assert q.specials == {"[PAD]": 0, "[UNK]": 101, "[CLS]": 102, "[SEP]": 103, "[MASK]": 104}
    assert q.layout_ok and q.reserved_unused == 100
    assert len(q.unused_ids) == 4334 and q.filler_unused == 4234  # [unused100]..[unused4333] fill removed lines
    assert q.empty_lines == [32920]
    # real entries by line: 19,337 word-initial + 9,245 continuation; 3 of the latter strip() to "##"
    assert q.kinds == {"continuation": 9242, "empty": 1, "special": 5, "unused": 4334, "word-initial": 19337}
    assert q.duplicates == {"##": [106, 107, 211, 802]}  # "##\t", "##", "##\x85", "##\u2028"
    assert q.with_upper == 7419 and q.with_norwegian_letters == 2546


def test_published_unreachable_entries(published):
    """4,384 entries can never come out of BERT's tokenizer (§3.5 estimates ~4,200); an independent
    count with the Python reference tokenizer gives the same number."""
    q = published
    assert q.unreachable == {"## + punctuation or CJK": 1795, "empty continuation": 1,
                             "punctuation or CJK inside a multi-character piece": 2550,
                             "whitespace or control character": 38}
    assert q.unreachable_total == 4384 and q.usable == 24195
    independent = 0
    for token in read_vocab(PUBLISHED).ids:
        if kind_of(token) == "word-initial":
            independent += ref.basic_tokenize(token) != [token]
        elif kind_of(token) == "continuation":
            body = token[2:]
            independent += not body or ref.basic_tokenize("a" + body) != ["a" + body]
    assert independent == 4384
    ids = read_vocab(PUBLISHED).ids
    for example in ("målet,", "«et", "sterkt."):  # the kinds of entries §3.5 names
        assert example in ids and unreachable_reason(example) == "punctuation or CJK inside a multi-character piece"


def test_cli_on_published_vocab(tmp_path):
    out = tmp_path / "check.json"
    proc = run_norlm("vocab-check", str(PUBLISHED), "--json", str(out), check=False)
    assert proc.returncode == 1, proc.stderr
    assert "empty lines" in proc.stdout and "32920" in proc.stdout
    assert "4234 [unused] filler entries" in proc.stdout
    assert "4384 learned entries can never be produced" in proc.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["unreachable_total"] == 4384 and report["duplicate_extra_lines"] == 3
    assert report["empty_lines"] == [32920] and report["unused_id_range"] == [1, 32908]


def test_cli_on_clean_and_broken_files(tmp_path):
    clean = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hus", "##et", "Å", ","]
    good = tmp_path / "good.txt"
    good.write_text("\n".join(clean) + "\n", encoding="utf-8")
    proc = run_norlm("vocab-check", str(good), check=False)
    assert proc.returncode == 0 and "verdict" in proc.stdout and "clean" in proc.stdout

    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hus", "", "hus", "##,", "a.b"]) + "\n",
                   encoding="utf-8")
    q = analyse(read_vocab(bad))
    assert q.empty_lines == [6] and q.duplicates == {"hus": [5, 7]}
    assert q.unreachable == {"## + punctuation or CJK": 1, "punctuation or CJK inside a multi-character piece": 1}
    assert q.layout_ok and q.reserved_unused == 0

    moved = tmp_path / "moved.txt"
    moved.write_text("\n".join(["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]", "hus"]) + "\n", encoding="utf-8")
    assert not analyse(read_vocab(moved)).layout_ok

    notutf8 = tmp_path / "latin1.txt"
    notutf8.write_bytes(b"[PAD]\n[UNK]\nbl\xe5\n")
    proc = run_norlm("vocab-check", str(notutf8), check=False)
    assert proc.returncode == 2 and "latin1.txt:3: not valid UTF-8" in proc.stderr
