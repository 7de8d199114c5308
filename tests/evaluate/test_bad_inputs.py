"""Malformed evaluation and corpus inputs, one small file each: every reader and scorer gives the right
result or one line naming the file and line (or record id), exit 2 when nothing usable is left, and
never a traceback.  Each case asserts the message and the exit code (0: the run goes on)."""
from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

import pytest

from norlm import cli, conll, errors
from norlm.corpus.inputs import Issues
from norlm.corpus.readers import Unit
from norlm.corpus.readers import nak, ndt
from norlm.evaluate import readers
from norlm.evaluate.graph import conllu as graph_conllu
from norlm.evaluate.graph import data, lemmas
from norlm.vocab import fertility

UD_LINE = "{i}\t{form}\t{form}\t{upos}\t_\t_\t0\troot\t_\t{misc}\n"
NDT_LINE = "{i}\t{form}\t{form}\tsubst\tsubst\t_\t0\tFRAG\t_\t{misc}\n"


@pytest.fixture(autouse=True)
def no_stage_name(monkeypatch):
    """Messages read `norlm: warning: ...` whatever an earlier in-process CLI call left behind."""
    monkeypatch.setattr(errors, "CURRENT_STAGE", "")


def ud(words, upos="NOUN", misc="name=O", line=UD_LINE) -> str:
    return "".join(line.format(i=i, form=w, upos=upos, misc=misc) for i, w in enumerate(words, 1)) + "\n"


def outcome(capsys, fn, *args, **kwargs):
    """(result, exit code, stderr): exit 0 with the result, or the StageError's code and message."""
    try:
        result, code = fn(*args, **kwargs), 0
    except errors.StageError as exc:
        result, code = None, exc.exit_code
        print(f"error: {exc}", file=sys.stderr)
    return result, code, capsys.readouterr().err


def one_line(err: str, pattern: str) -> None:
    """Exactly one message line matches `pattern`, and no traceback was printed."""
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if re.search(pattern, line)]) == 1, err


# --- CoNLL-U (UD 2.7, NorNE UD) ------------------------------------------------------------------

def test_conllu_invalid_byte_skips_its_sentence(tmp_path, capsys):
    path = tmp_path / "a.conllu"
    path.write_bytes(ud(["Hei"]).encode() + b"1\tH\xffei\tx\tNOUN\t_\t_\t0\troot\t_\t_\n\n" + ud(["Ja"]).encode())
    result, code, err = outcome(capsys, readers.read_conllu, path)
    assert code == 0 and [s.words for s in result.records] == [["Hei"], ["Ja"]] and result.skipped == 1
    one_line(err, rf"^norlm: warning: {re.escape(str(path))}:3: invalid UTF-8 byte 0xff at byte 4; sentence skipped$")


def test_conllu_bom_and_crlf_read_as_plain(tmp_path, capsys):
    path = tmp_path / "b.conllu"
    path.write_bytes(b"\xef\xbb\xbf# sent_id = 1\r\n" + ud(["Hei", "du"]).replace("\n", "\r\n").encode())
    result, code, err = outcome(capsys, readers.read_conllu, path)
    assert code == 0 and err == "" and result.records[0].words == ["Hei", "du"] and result.records[0].ner == ["O", "O"]


def test_conllu_truncated_gz_keeps_what_came_before(tmp_path, capsys):
    path = tmp_path / "c.conllu.gz"
    whole = gzip.compress("".join(ud([f"ord{i * 7919 % 100003}"]) for i in range(6000)).encode())
    path.write_bytes(whole[:len(whole) // 2])
    result, code, err = outcome(capsys, readers.read_conllu, path)
    assert code == 0 and 0 < len(result.records) < 6000 and result.skipped == 1
    one_line(err, rf"{re.escape(str(path))}:\d+: truncated or corrupt file \((EOFError|BadGzipFile)")


@pytest.mark.parametrize("bad_line, message", [
    ("2\tdu\tdu\tPRON\t_\t_\t1\tobj\t_\n", r":3: 9 columns, expected 10"),
    ("x\tdu\tdu\tPRON\t_\t_\t1\tobj\t_\t_\n", r":3: token id 'x' is not a valid id"),
    ("3\tdu\tdu\tPRON\t_\t_\t1\tobj\t_\t_\n", r":3: token id 3, expected 2"),
    ("2\tdu\tdu\tFOO\t_\t_\t1\tobj\t_\t_\n", r":3: unknown UPOS tag 'FOO'"),
    ("2\tdu\tdu\tPRON\t_\t_\t1\tobj\t_\tname=B-FOO\n", r":3: unknown NER tag 'B-FOO' \(NorNE BIO tags: O, B-/I- \+ PER, .*, MISC\)"),
])
def test_conllu_malformed_sentence_is_named_and_skipped(tmp_path, capsys, bad_line, message):
    path = tmp_path / "d.conllu"
    path.write_text("# sent_id = 1\n" + ud(["Hei"]).rstrip("\n") + "\n" + bad_line + "\n" + ud(["Ja"]), encoding="utf-8")
    result, code, err = outcome(capsys, readers.read_conllu, path)
    assert code == 0 and [s.words for s in result.records] == [["Ja"]] and result.skipped == 1
    one_line(err, re.escape(str(path)) + message + "; sentence skipped$")


def test_conllu_with_nothing_usable_is_exit_2(tmp_path, capsys):
    path = tmp_path / "e.conllu"
    path.write_text(ud(["Hei"], upos="FOO"), encoding="utf-8")
    _, code, err = outcome(capsys, conll.read_sentences, path, "conllu", [conll.tag_check("upos", conll.UPOS)])
    assert code == 2
    one_line(err, rf"^error: {re.escape(str(path))}: no usable sentence \(1 skipped; first: .*:1: unknown upos tag 'FOO'\)")


def test_fertility_empty_file_is_exit_2(tmp_path, capsys):
    path = tmp_path / "no_bokmaal-ud-test.conllu"
    path.write_bytes(b"")
    _, code, err = outcome(capsys, fertility.read_conllu_forms, path)
    assert code == 2
    one_line(err, rf"^error: {re.escape(str(path))}: no usable sentence \(the file holds no token lines\)$")


# --- NDT CoNLL-X (NorNE train, corpus stage, lemma lookup) -----------------------------------------

def test_ndt_missing_name_tag(tmp_path, capsys):
    path = tmp_path / "a.conll"
    path.write_text(ud(["Hei", "du"], misc="_", line=NDT_LINE) + ud(["Ja"], line=NDT_LINE), encoding="utf-8")
    result, code, err = outcome(capsys, readers.read_ndt, path)
    assert code == 0 and [s.words for s in result.records] == [["Ja"]]
    one_line(err, rf"{re.escape(str(path))}:1: no name= tag; sentence skipped$")


def test_ndt_invalid_byte_in_gz(tmp_path, capsys):
    path = tmp_path / "b.conll.gz"
    path.write_bytes(gzip.compress(ud(["Ja"], line=NDT_LINE).encode() + b"1\t\xe6\t_\tsubst\tsubst\t_\t0\tFRAG\t_\tname=O\n"))
    result, code, err = outcome(capsys, readers.read_ndt, path)
    assert code == 0 and [s.words for s in result.records] == [["Ja"]]
    one_line(err, rf"{re.escape(str(path))}:3: invalid UTF-8 byte 0xe6 at byte 3; sentence skipped$")


def test_corpus_ndt_reader_counts_a_malformed_sentence(tmp_path, capsys):
    path = tmp_path / "ap001_0000.conll"
    path.write_text(ud(["Hei", "du"], line=NDT_LINE) + "1\tbare\tto kolonner\n\n" + ud(["Ja"], line=NDT_LINE))
    issues = Issues()
    got = list(ndt.sentences(str(path), issues, 1 << 20))
    assert got == [["Hei", "du"], ["Ja"]] and issues.counts == {"malformed-conll": 1}
    one_line(capsys.readouterr().err, rf"skipped {re.escape(str(path))}:4: malformed-conll: 3 columns, expected 10$")


def test_lemma_lookup_skips_a_bad_sentence(tmp_path, capsys):
    folder = tmp_path / "norne" / "ndt" / "nob"
    folder.mkdir(parents=True)
    (folder / "a.conll").write_text(ud(["Boka"], line=NDT_LINE) + "1\tx\n\n", encoding="utf-8")
    lookup = lemmas.build_lookup(tmp_path)
    assert lookup.lemma_of("Boka") == "Boka"  # the tiny file's lemma column repeats the form
    one_line(capsys.readouterr().err, r"a.conll:3: 2 columns, expected 10; sentence skipped$")


def test_nak_xml_corrupt_gz_is_counted(tmp_path, capsys):
    good = tmp_path / "a.xml"
    good.write_text('<doc><div type="text"><p>Et avsnitt.</p></div></doc>', encoding="utf-8")
    bad = tmp_path / "b.xml.gz"
    body = gzip.compress(b"<doc>" + b"x" * 5000 + b"</doc>")
    bad.write_bytes(body[:10] + b"\xff" * 40 + body[50:])  # a valid header, then a corrupt deflate stream
    issues = Issues()
    source = type("S", (), {"segment": False})()
    docs = list(nak.read_xml(Unit(0, 0, (str(good), str(bad))), source, None, issues))
    assert [d.parts for d in docs] == [["Et avsnitt."]] and issues.counts == {"truncated-file": 1}
    one_line(capsys.readouterr().err, rf"skipped {re.escape(str(bad))}: truncated-file: (error|BadGzipFile|EOFError)")


# --- graph CoNLL-U ---------------------------------------------------------------------------------

GRAPH = "1\tHun\t_\t_\t_\t_\t_\t_\t_\t_\t{a}\n2\tsmiler\t_\t_\t_\t_\t_\t_\t_\t_\t{b}\n\n"


@pytest.mark.parametrize("arcs, message", [
    (("7:targ", "0:exp-Positive"), r":2: head 7 beyond the sentence \(2 tokens\)"),
    (("2:targ", "0:FOO"), r":3: unknown arc label 'FOO'"),
    (("x:targ", "0:exp-Positive"), r":2: bad arc 'x:targ' \(expected head:label\)"),
])
def test_graph_conllu_bad_arc(tmp_path, capsys, arcs, message):
    path = tmp_path / "g.conllu"
    path.write_text("# sent_id = a\n" + GRAPH.format(a=arcs[0], b=arcs[1]) + "# sent_id = b\n"
                    + GRAPH.format(a="2:targ", b="0:exp-Positive"), encoding="utf-8")
    (result, skipped), code, err = outcome(capsys, graph_conllu.read_graph_conllu, path, "sentiment")
    assert code == 0 and [s.sent_id for s in result] == ["b"] and skipped == 1
    one_line(err, rf"^norlm: warning: {re.escape(str(path))}{message}; sentence skipped$")


# --- NoReC_sentence CSV ----------------------------------------------------------------------------

@pytest.mark.parametrize("bad, message", [
    (b'1,"Bra film .\n', r":2: malformed CSV row \(unexpected end of data; an unbalanced quote\?\)"),
    (b"1,Bra \xff film .\n", r":2: invalid UTF-8 byte 0xff at byte 7"),
    (b"1,Bra,film\n", r":2: row has 3 fields, expected label,text"),
    (b"7,Bra film .\n", r":2: label '7' is not 0 or 1"),
])
def test_norec_csv_bad_row_costs_only_itself(tmp_path, capsys, bad, message):
    path = tmp_path / "train.csv"
    path.write_bytes(b"0,Kjedelig .\n" + bad + b"1,Flott .\n0,Trist .\n")
    result, code, err = outcome(capsys, readers.read_norec_csv, path)
    assert code == 0 and [r.words for r in result.records] == [["Kjedelig", "."], ["Flott", "."], ["Trist", "."]]
    one_line(err, rf"{re.escape(str(path))}{message}; row skipped$")


# --- NoReC_fine / NoReC_neg JSON -------------------------------------------------------------------

def fine(sid="1-01-01", text="Hun smiler", **op) -> dict:
    opinion = {"Source": [[], []], "Target": [["Hun"], ["0:3"]], "Polar_expression": [["smiler"], ["4:10"]],
               "Polarity": "Positive"}
    opinion.update(op)
    return {"sent_id": sid, "text": text, "opinions": [{k: v for k, v in opinion.items() if v is not None}]}


@pytest.mark.parametrize("record, message", [
    ("not an object", r"record 0: a str, expected an object with sent_id and text"),
    (fine(Polarity=None), r"record 0 \(1-01-01\) opinion 0: missing key 'Polarity'"),
    (fine(Target=[["Hun"], ["4:9000"]]), r"record 0 \(1-01-01\) opinion 0 Target: offset '4:9000' outside the "
                                         r"sentence \(0:10\)"),
    (fine(Source=None), r"record 0 \(1-01-01\): missing key 'Source'"),
    (fine(Polarity="Great"), r"record 0 \(1-01-01\) opinion 0: unknown Polarity 'Great' \(known: Positive, "
                                r"Negative, Neutral, null\)"),
])
def test_fine_json_bad_record_is_named_and_skipped(tmp_path, capsys, record, message):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps([record, fine(sid="1-01-02")]), encoding="utf-8")
    (sents, skipped), code, err = outcome(capsys, data.read_fine, path)
    assert code == 0 and [s.sent_id for s in sents] == ["1-01-02"] and skipped == 1
    one_line(err, rf"^norlm: warning: {re.escape(str(path))}: {message}; record skipped$")


def test_neg_json_missing_cue(tmp_path, capsys):
    path = tmp_path / "negation_dev.json"
    rec = {"sent_id": "1-01-01", "text": "ikke bra", "negations": [{"Scope": [["bra"], ["5:8"]]}]}
    path.write_text(json.dumps([rec, {**rec, "sent_id": "1-01-02", "negations": []}]), encoding="utf-8")
    (sents, _), code, err = outcome(capsys, data.read_neg, path)
    assert code == 0 and [s.sent_id for s in sents] == ["1-01-02"]
    one_line(err, r"record 0 \(1-01-01\): missing key 'Cue'; record skipped$")


@pytest.mark.parametrize("content, message", [
    (json.dumps({"sent_id": "1"}).encode(), r": expected a JSON list of sentences, found a dict$"),
    (b'[\n{"sent_id": "1-01-01",\n "text": "Hun', r":3: invalid JSON \(Unterminated string starting at; a truncated file\?\)$"),
    (b'[\n{"sent_id": "1-01-01", "text": "H\xffn"}]', r":2: invalid UTF-8 byte 0xff$"),
    (b"[]", r": no usable sentence$"),
])
def test_json_file_with_nothing_usable_is_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "test.json"
    path.write_bytes(content)
    _, code, err = outcome(capsys, data.read_fine, path)
    assert code == 2
    one_line(err, rf"^error: {re.escape(str(path))}{message}")


def test_json_truncated_gz_is_exit_2(tmp_path, capsys):
    path = tmp_path / "test.json.gz"
    whole = gzip.compress(json.dumps([fine(sid=f"1-01-{i:02d}") for i in range(60)]).encode())
    path.write_bytes(whole[:len(whole) // 2])
    _, code, err = outcome(capsys, data.read_neg, path)
    assert code == 2
    one_line(err, rf"^error: {re.escape(str(path))}: truncated or corrupt file \((EOFError|BadGzipFile)")


# --- the scorers, through `norlm score` ------------------------------------------------------------

def score(capsys, monkeypatch, *args) -> tuple[int, str, str]:
    code = cli.main(["score", *args])  # sets errors.CURRENT_STAGE, which no_stage_name restores
    out, err = capsys.readouterr()
    return code, out, err


def write_graphs(path: Path, sentences: list[tuple[str, str, str]]) -> Path:
    path.write_text("".join(f"# sent_id = {sid}\n" + GRAPH.format(a=a, b=b) for sid, a, b in sentences), encoding="utf-8")
    return path


GOLD_GRAPHS = [("a", "2:targ", "0:exp-Positive"), ("b", "_", "0:exp-Negative"), ("c", "2:holder", "0:exp-Positive")]


@pytest.mark.parametrize("pred, message", [
    (GOLD_GRAPHS[:2], r"pred.conllu: sentence ids differ from .*gold.conllu: 1 missing \(c\)$"),
    (GOLD_GRAPHS + [("d", "_", "_")], r"pred.conllu: sentence ids differ from .*gold.conllu: 1 extra \(d\)$"),
    (GOLD_GRAPHS + [("a", "_", "_")], r"pred.conllu: sentence id\(s\) repeated: a$"),
])
def test_sentiment_graph_refuses_missing_extra_or_repeated_ids(tmp_path, capsys, monkeypatch, pred, message):
    gold = write_graphs(tmp_path / "gold.conllu", GOLD_GRAPHS)
    code, _, err = score(capsys, monkeypatch, "sentiment-graph", "--gold", str(gold), "--pred",
                         str(write_graphs(tmp_path / "pred.conllu", pred)))
    assert code == 2
    one_line(err, r"^norlm score: error: .*" + message)


def test_sentiment_graph_pred_with_a_skipped_record_is_refused(tmp_path, capsys, monkeypatch):
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps([fine(), fine(sid="1-01-02")]), encoding="utf-8")
    pred = tmp_path / "pred.json"
    pred.write_text(json.dumps([fine(Target=[["Hun"], ["4:9000"]]), fine(sid="1-01-02")]), encoding="utf-8")
    code, _, err = score(capsys, monkeypatch, "sentiment-graph", "--scorer", "semeval2022", "--gold", str(gold),
                         "--pred", str(pred))
    assert code == 2
    one_line(err, r"^norlm score: warning: .*pred.json: record 0 \(1-01-01\) opinion 0 Target: offset '4:9000'")
    one_line(err, r"^norlm score: error: .*pred.json: sentence ids differ from .*gold.json: 1 missing \(1-01-01\)$")


STARSEM = "_\t{sid}\t0\tikke\t_\t_\t_\tikke\t_\t_\n_\t{sid}\t1\tbra\t_\t_\t_\t_\tbra\t_\n\n"


@pytest.mark.parametrize("pred, message", [
    (STARSEM.format(sid="s1").encode(), r"sentence ids differ from .*gold.starsem: 1 missing \(s2\)$"),
    (STARSEM.format(sid="s1").encode() + STARSEM.format(sid="s2").encode().replace(b"bra", b"br\xff", 1),
     r"pred.starsem:5: invalid UTF-8 byte 0xff at byte 10$"),
    (STARSEM.format(sid="s1").encode() + b"_\ts2\t0\tikke\n\n", r"pred.starsem:4: 4 columns; expected 8"),
    (b"", r"pred.starsem: no sentence \(an empty file\?\)$"),
])
def test_negation_scorer_bad_prediction_file(tmp_path, capsys, monkeypatch, pred, message):
    gold = tmp_path / "gold.starsem"
    gold.write_text(STARSEM.format(sid="s1") + STARSEM.format(sid="s2"), encoding="utf-8")
    (tmp_path / "pred.starsem").write_bytes(pred)
    code, _, err = score(capsys, monkeypatch, "negation", "--gold", str(gold), "--pred", str(tmp_path / "pred.starsem"))
    assert code == 2
    one_line(err, r"^norlm score: error: .*" + message)


# --- reordered predictions score exactly as ordered ones (bundled test splits) ---------------------

def shuffled(items: list) -> list:
    return items[1::2][::-1] + items[0::2]


def test_sentiment_graph_reordered_predictions_score_the_same(tmp_path, capsys, monkeypatch):
    from norlm.evaluate.graph import decode, encode
    from tests.conftest import DATA

    sents, _ = data.read_fine(data.fine_path(DATA, "test"))
    graphs = [graph_conllu.GraphSentence(s.sent_id, s.text, s.tokens, encode.sentiment_graph(s, "head_first"))
              for s in sents]
    pred = [graph_conllu.GraphSentence(g.sent_id, g.text, g.forms, decode_arcs(g)) for g in graphs]
    graph_conllu.write_graph_conllu(tmp_path / "gold.conllu", graphs)
    graph_conllu.write_graph_conllu(tmp_path / "pred.conllu", pred)
    graph_conllu.write_graph_conllu(tmp_path / "shuffled.conllu", shuffled(pred))
    jsons = [{"sent_id": g.sent_id, "text": g.text, "opinions": decode.graph_to_opinions(g.text, g.arcs, "head_first")}
             for g in pred]
    data.write_fine_json(tmp_path / "pred.json", jsons)
    data.write_fine_json(tmp_path / "shuffled.json", shuffled(jsons))
    results = {}
    for scorer, names in (("norlm2021", ("pred.conllu", "shuffled.conllu")), ("semeval2022", ("pred.json", "shuffled.json"))):
        for name in names:
            code, out, err = score(capsys, monkeypatch, "sentiment-graph", "--scorer", scorer, "--encoding", "head_first",
                                   "--json", "--gold", str(tmp_path / "gold.conllu"), "--pred", str(tmp_path / name))
            assert code == 0 and err == ""
            results[name] = json.loads(out)
    assert results["pred.conllu"] == results["shuffled.conllu"]
    assert results["pred.json"] == results["shuffled.json"]
    assert 0 < results["pred.conllu"]["holder_f1"] < 100 and 0 < results["pred.json"]["sf1"] < 100


def decode_arcs(g):
    """A prediction that differs from gold: every second sentence loses its holder arcs."""
    if int.from_bytes(g.sent_id.encode(), "big") % 2:
        return [[a for a in arcs if "holder" not in a[1]] for arcs in g.arcs]
    return g.arcs


def test_negation_reordered_predictions_score_the_same(tmp_path, capsys, monkeypatch):
    from norlm.files import open_text
    from tests.conftest import DATA

    gold = data.starsem_path(DATA, "test")
    with open_text(gold) as fh:
        blocks = [b for b in fh.read().split("\n\n") if b.strip()]
    system = [drop_scopes(b) if k % 5 == 0 else b for k, b in enumerate(blocks)]
    (tmp_path / "pred.starsem").write_text("".join(b + "\n\n" for b in system), encoding="utf-8")
    (tmp_path / "shuffled.starsem").write_text("".join(b + "\n\n" for b in shuffled(system)), encoding="utf-8")
    outs = []
    for name in ("pred.starsem", "shuffled.starsem"):
        code, out, err = score(capsys, monkeypatch, "negation", "--json", "--gold", str(gold), "--pred", str(tmp_path / name))
        assert code == 0 and err == ""
        outs.append(json.loads(out))
    assert outs[0] == outs[1] and 0 < outs[0]["scope_tokens"]["f1"] < 100


def drop_scopes(block: str) -> str:
    """A *SEM sentence whose first negation lost its scope (the cue stays)."""
    rows = [line.split("\t") for line in block.split("\n")]
    return "\n".join("\t".join(r[:8] + ["_"] + r[9:] if len(r) > 8 else r) for r in rows)
