"""build_tokenizer / load_tokenizer: ids identical to an independent Python model of BERT's tokenizer."""
from __future__ import annotations

import pytest

from norlm.vocab.tokenizer import build_tokenizer, load_tokenizer

from . import bert_reference as ref
from .conftest import PUBLISHED, norec_sentences, ud_texts

EDGE_CASES = [
    "Ærlig talt: «Økonomien» går så det suser – 3,14 % av 1 000 000 kr. (ca.)!",
    "Hun sa: \"Det er 2020-tallet nå\"; han svarte 'nei'... #hashtag @navn & co.",
    "Svært lange ord: " + "kvinnefotballen" * 8 + " og " + "a" * 100 + " og " + "b" * 101,
    "Tab\tog\u00a0hardt mellomrom, myk\u00adbindestrek og null\u200bbredde, kontroll\x07tegn.",
    "Kinesisk 中文字 midt i teksten, emoji 🙂 og symboler € ° ½ § ©.",
    "linje\u2028skift og avsnitt\u2029skift, ¿spansk? ¡ja!",
    "Bjørnstjerne Bjørnson, Ålesund, Tromsø, Æsop — ÆØÅ æøå ÉÈÊ éèê ÜÄÖ üäö.",
    "   innledende og avsluttende mellomrom   ",
    "",
]


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    out = ud_texts("test") + norec_sentences("test") + EDGE_CASES
    assert len(out) >= 2000
    return out


def _assert_parity(vocab_txt, sentences):
    tok = build_tokenizer(vocab_txt)
    vocab = ref.load_vocab(vocab_txt)
    ours = [e.ids for e in tok.encode_batch(sentences)]
    theirs = [ref.encode(s, vocab) for s in sentences]
    mismatches = [(s, a, b) for s, a, b in zip(sentences, ours, theirs) if a != b]
    assert not mismatches, f"{len(mismatches)} sentences differ, first: {mismatches[0]}"
    return tok, vocab, ours


def test_corpus_of_sentences_covers_the_hard_cases(sentences):
    text = "".join(sentences)
    assert set("æøåÆØÅ") <= set(text)
    assert set(",.:;!?«»()\"'-–") <= set(text)
    assert any(ch.isdigit() for ch in text)
    assert max(len(w) for s in sentences for w in ref.basic_tokenize(s)) > 100


def test_published_vocab_parity(sentences):
    """The published NorBERT file (duplicates after strip(), an empty line) gives the TF ids."""
    tok, vocab, ours = _assert_parity(PUBLISHED, sentences)
    unk = vocab["[UNK]"]
    assert sum(ids.count(unk) for ids in ours) > 0  # the edge cases do hit [UNK]
    assert tok.get_vocab_size() == 32922  # one id per line, shadowed lines included
    assert tok.token_to_id("##") == 802  # last of lines 106, 107, 211, 802 that strip() to "##"
    assert tok.id_to_token(106) == "[norlm-shadowed-106]"
    assert tok.token_to_id("") == 32920


def test_trained_vocab_parity(trained, sentences):
    for method in ("spbpe", "wordpiece"):
        vocab_txt = trained[method]["dir"] / "vocab.txt"
        tok, vocab, ours = _assert_parity(vocab_txt, sentences)
        pieces = sum(len(ids) - 2 for ids in ours)
        words = sum(len(ref.basic_tokenize(s)) for s in sentences)
        assert pieces > 1.3 * words  # a 2,000-entry vocabulary splits many words: the greedy loop is exercised
        saved = load_tokenizer(trained[method]["dir"])  # tokenizer.json written by the stage
        assert [e.ids for e in saved.encode_batch(sentences[:500])] == ours[:500]


def test_template_type_ids_and_decoding():
    tok = build_tokenizer(PUBLISHED)
    pair = tok.encode("Jeg vi elsker dette landet.", "Kvinnefotballen i Kristiansand!")
    assert pair.tokens[0] == "[CLS]" and pair.ids[0] == 102
    seps = [i for i, t in enumerate(pair.tokens) if t == "[SEP]"]
    assert len(seps) == 2 and seps[1] == len(pair.ids) - 1 and pair.ids[seps[0]] == 103
    assert pair.type_ids == [0] * (seps[0] + 1) + [1] * (len(pair.ids) - seps[0] - 1)
    assert tok.decode(pair.ids) == "Jeg vi elsker dette landet. Kvinnefotballen i Kristiansand!"
    assert tok.encode("[MASK] er her").ids[1] == 104  # specials are matched like HF's BERT tokenizers


def test_duplicates_keep_the_last_line(tmp_path):
    lines = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hus", "##et", "båt", "hus", "", "  ##et  ", "x"]
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tok = build_tokenizer(path)
    assert tok.get_vocab_size() == len(lines)
    assert tok.encode("huset båt", add_special_tokens=False).ids == [8, 10, 7]
    assert ref.encode("huset båt", ref.load_vocab(path)) == [2, 8, 10, 7, 3]
    assert tok.id_to_token(5) == "[norlm-shadowed-5]" and tok.id_to_token(6) == "[norlm-shadowed-6]"
    assert tok.encode("ukjent", add_special_tokens=False).ids == [1]


def test_known_differences_from_googles_code(tmp_path):
    """tokenizers' BertNormalizer drops private-use characters (Google keeps them, so the word turns
    into [UNK]) and does not isolate CJK Extension-E ideographs U+2B820..U+2B91F."""
    tok = build_tokenizer(PUBLISHED)
    vocab = ref.load_vocab(PUBLISHED)
    private = "hus\ue000"
    assert tok.encode(private, add_special_tokens=False).tokens == ["hus"]
    assert ref.encode(private, vocab)[1:-1] == [vocab["[UNK]"]]
    ext_e = "a\U0002B820b"
    assert len(ref.basic_tokenize(ext_e)) == 3
    assert len(tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(ext_e))) == 1


def test_bad_vocab_and_missing_tokenizer(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\nhus\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab.txt: no \[UNK\] entry"):
        build_tokenizer(path)
    with pytest.raises(FileNotFoundError, match="no tokenizer.json"):
        load_tokenizer(tmp_path)
