"""`norlm score` is a registered command: the scorers run from the CLI on the bundled gold files."""
from __future__ import annotations

import gzip
import json

from norlm.cli import main

GOLD_NEG = "data/norec_neg/modeling/evaluation/neg_test.starsem.gz"


def test_negation_gold_against_itself(tmp_path, capsys):
    gold = tmp_path / "gold.starsem"
    gold.write_bytes(gzip.decompress(open(GOLD_NEG, "rb").read()))
    assert main(["score", "negation", "--gold", str(gold), "--pred", str(gold), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["cues"]["f1"] == 100.0 and scores["full_negation"]["f1"] == 100.0
    assert scores["cues"]["gold"] == scores["cues"]["system"] == scores["cues"]["tp"] > 0


def test_sentiment_gold_json_against_itself(capsys):
    gold = "data/norec_fine/test.json.gz"
    assert main(["score", "sentiment-graph", "--gold", gold, "--pred", gold, "--scorer", "semeval2022",
                 "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["scorer"] == "semeval2022" and scores["sf1"] == 100.0
    assert all(v == 100.0 for k, v in scores.items() if k.endswith("f1"))


def test_missing_file_is_an_error(tmp_path, capsys):
    assert main(["score", "negation", "--gold", str(tmp_path / "no.starsem"), "--pred", GOLD_NEG]) != 0
    assert "norlm score" in capsys.readouterr().err
