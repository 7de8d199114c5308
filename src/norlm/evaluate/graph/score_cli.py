"""Score graph-task predictions with the paper's reference metrics (no model needed).

  norlm score negation --gold neg_test.starsem --pred pred.starsem [--json]
      the *SEM 2012 CD-SCO scorer (eval.cd-sco.pl v2.2): cues, scopes, scope tokens, negated,
      full negation and the "B" rows, in the Perl script's table layout.
  norlm score sentiment-graph --gold G --pred P [--scorer norlm2021|semeval2022] [--encoding E] [--json]
      fine-grained sentiment.  norlm2021 (default; the NorLM-era F1_scorer.py) reads graph CoNLL-U
      and prints Holder/Target/Expression F1, Targeted F1, UF1, LF1, NSF1, SF1; semeval2022 (the
      fixed SemEval-2022 scorer) reads dataset JSON and prints SF1 (and NSF1).  Either scorer
      takes either input: JSON is encoded as graphs with --encoding, graphs decoded to JSON.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from norlm.errors import StageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", metavar="negation|sentiment-graph")
    neg = sub.add_parser("negation", help="*SEM 2012 CD-SCO negation scorer on .starsem files")
    neg.add_argument("--gold", required=True, help="gold *SEM file (e.g. data/norec_neg/modeling/evaluation/neg_test.starsem.gz)")
    neg.add_argument("--pred", required=True, help="system *SEM file with the same first four columns")
    neg.add_argument("--json", action="store_true", help="print the scores as JSON instead of the table")
    sa = sub.add_parser("sentiment-graph", help="structured sentiment scorers (NorLM-era and SemEval-2022)")
    sa.add_argument("--gold", required=True, help="gold graph CoNLL-U or dataset JSON (.json[.gz])")
    sa.add_argument("--pred", required=True, help="predicted graph CoNLL-U or dataset JSON")
    sa.add_argument("--scorer", default="norlm2021", choices=("norlm2021", "semeval2022"),
                    help="norlm2021: the paper-era F1_scorer.py (all 8 metrics); semeval2022: the fixed SF1")
    sa.add_argument("--encoding", default="head_final-inside_label",
                    help="graph encoding for converting between JSON and graphs (default head_final-inside_label)")
    sa.add_argument("--json", action="store_true", help="print the scores as JSON")


def _is_json(path: str) -> bool:
    return path.endswith(".json") or path.endswith(".json.gz")


def load_graphs(path: str, encoding: str) -> list:
    """Graph sentences from graph CoNLL-U, or from dataset JSON encoded with `encoding`."""
    from norlm.evaluate.graph.conllu import GraphSentence, read_graph_conllu

    if _is_json(path):
        from norlm.evaluate.graph.data import read_fine
        from norlm.evaluate.graph.encode import check_encoding, sentiment_graph

        check_encoding(encoding)
        sents, _ = read_fine(path)
        return [GraphSentence(s.sent_id, s.text, s.tokens, sentiment_graph(s, encoding)) for s in sents]
    return read_graph_conllu(path, task="sentiment")[0]


def load_json(path: str, encoding: str) -> list[dict]:
    """Dataset-format records from JSON, or decoded from graph CoNLL-U."""
    if _is_json(path):
        from norlm.evaluate.graph.data import read_fine

        return [s.raw for s in read_fine(path)[0]]
    from norlm.evaluate.graph.conllu import read_graph_conllu
    from norlm.evaluate.graph.decode import graph_to_opinions

    return [{"sent_id": g.sent_id, "text": g.text, "opinions": graph_to_opinions(g.text, g.arcs, encoding)}
            for g in read_graph_conllu(path, task="sentiment")[0]]


def score_sentiment_files(gold: str, pred: str, scorer: str, encoding: str) -> dict:
    from norlm.evaluate.graph import score_sentiment as ss

    names = (str(gold), str(pred))
    if scorer == "norlm2021":
        return ss.score_norlm2021(load_graphs(gold, encoding), load_graphs(pred, encoding), names)
    return ss.score_semeval2022(load_json(gold, encoding), load_json(pred, encoding), names)


SA_NAMES = (("holder_f1", "Holder F1"), ("target_f1", "Target F1"), ("expression_f1", "Exp. F1"),
            ("targeted_f1", "Targeted F1"), ("uf1", "UF1"), ("lf1", "LF1"), ("nsf1", "NSF1"), ("sf1", "SF1"))


def main(args: argparse.Namespace, cfg=None) -> int:
    if args.what is None:
        raise StageError("choose `negation` or `sentiment-graph` (see norlm score --help)")
    try:
        if args.what == "negation":
            from norlm.evaluate.graph.score_negation import format_table, score_starsem

            scores = score_starsem(args.gold, args.pred)
            print(json.dumps(scores, indent=2) if args.json else format_table(scores), end="" if not args.json else "\n")
            return 0
        scores = score_sentiment_files(args.gold, args.pred, args.scorer, args.encoding)
    except ValueError as exc:  # a DataError is a StageError already: the CLI prints it (exit 2)
        raise StageError(str(exc)) from exc
    scores = {k: round(v, 4) for k, v in scores.items()}
    if args.json:
        print(json.dumps({"scorer": args.scorer, **scores}, indent=2))
    else:
        print(f"scorer: {args.scorer} (gold {Path(args.gold).name}, predictions {Path(args.pred).name})")
        for key, name in SA_NAMES:
            if key in scores:
                print(f"{name:<12} {scores[key]:6.2f}")
    return 0
