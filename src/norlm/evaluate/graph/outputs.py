"""Parser predictions -> the task's files and scores, so any reference scorer can be rerun on them.

Per split, in WORK/eval/<task>/<model>/seed<k>/: `<split>.conllu` (graph CoNLL-U) and
`<split>.json` (dataset JSON) for both tasks, `<split>.starsem` for negation, and the gold files
they are scored against (`<split>.gold.conllu`; `<split>.gold.starsem` when the split is a
subset, else the bundled gold *SEM file is used).
Finegrained: the NorLM-era scorer on graph CoNLL-U (all eight metrics; the paper's) and the
SemEval-2022 scorer on JSON (SF1, NSF1).  Negation: the *SEM 2012 scorer on .starsem.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from norlm.evaluate.graph.conllu import GraphSentence, write_graph_conllu
from norlm.evaluate.graph.data import starsem_path, token_offsets, write_fine_json
from norlm.evaluate.graph.decode import graph_to_negations, graph_to_opinions
from norlm.evaluate.graph.features import GraphExample, matrix_to_arcs
from norlm.evaluate.graph.score_negation import score_starsem
from norlm.evaluate.graph.score_sentiment import score_norlm2021, score_semeval2022
from norlm.evaluate.graph.starsem import NO_AFFIX, affixer, gold_rows, negation_rows, write_starsem
from norlm.files import atomic_open

HEADLINE = {"finegrained": ("sf1", "SF1 (NorLM-era scorer)"), "negation": ("full_negation_f1", "full negation F1")}


def _graphs(examples: list[GraphExample], arcs: list) -> list[GraphSentence]:
    return [GraphSentence(ex.sent_id, ex.text, ex.forms, a, ex.lemmas, ex.pos) for ex, a in zip(examples, arcs)]


def _neg_json(ex: GraphExample, negs: list[dict]) -> dict:
    """Predicted negations as NoReC_neg JSON: affixal cues get the affix's char span."""
    spans = token_offsets(ex.text)
    out = []
    for neg in negs:
        cue_s, cue_o, sc_s, sc_o, affixal = [], [], [], [], False
        for t in sorted(neg["cue"]):
            w, (b, _e) = ex.forms[t - 1], spans[t - 1]
            form, (s, e) = (w, (0, len(w))) if w in NO_AFFIX else affixer(w)
            cue_s.append(form)
            cue_o.append(f"{b + s}:{b + e}")
            if (s, e) != (0, len(w)):
                affixal = True
                rest = (e, len(w)) if s == 0 else (0, s)
                sc_s.append(w[rest[0]:rest[1]])
                sc_o.append(f"{b + rest[0]}:{b + rest[1]}")
        for t in sorted(set(neg["scope"]) - set(neg["cue"])):
            sc_s.append(ex.forms[t - 1])
            sc_o.append(f"{spans[t - 1][0]}:{spans[t - 1][1]}")
        out.append({"Cue": [cue_s, cue_o], "Scope": [sc_s, sc_o], "Affixal": affixal})
    return {"sent_id": ex.sent_id, "text": ex.text, "negations": out}


def score_split(task: str, split: str, examples: list[GraphExample], pred: list[np.ndarray], labels: list[str],
                folder: Path, data_dir, complete: bool, encoding: str) -> dict:
    """Write the split's prediction and gold files into `folder`; return every metric (percent)."""
    folder.mkdir(parents=True, exist_ok=True)
    arcs = [matrix_to_arcs(m, labels) for m in pred]
    graphs, gold = _graphs(examples, arcs), _graphs(examples, [ex.arcs for ex in examples])
    write_graph_conllu(folder / f"{split}.conllu", graphs)
    write_graph_conllu(folder / f"{split}.gold.conllu", gold)
    if task == "finegrained":
        pred_json = [{"sent_id": g.sent_id, "text": g.text, "opinions": graph_to_opinions(g.text, g.arcs, encoding)}
                     for g in graphs]
        write_fine_json(folder / f"{split}.json", pred_json)
        metrics = score_norlm2021(gold, graphs)
        se = score_semeval2022([ex.source.raw for ex in examples], pred_json)
        metrics.update(sf1_semeval2022=se["sf1"], nsf1_semeval2022=se["nsf1"])
        return {k: round(v, 4) for k, v in metrics.items()}
    negs = [graph_to_negations(len(ex), a) for ex, a in zip(examples, arcs)]
    with atomic_open(folder / f"{split}.json") as fh:
        json.dump([_neg_json(ex, n) for ex, n in zip(examples, negs)], fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    pred_path = folder / f"{split}.starsem"
    write_starsem(pred_path, [negation_rows(ex.sent_id, ex.forms, n) for ex, n in zip(examples, negs)])
    if complete:
        gold_path = starsem_path(data_dir, split)
    else:
        gold_path = folder / f"{split}.gold.starsem"
        write_starsem(gold_path, [gold_rows(ex.source) for ex in examples])
    table = score_starsem(gold_path, pred_path)
    metrics = {"cue_f1": table["cues"]["f1"], "scope_tokens_f1": table["scope_tokens"]["f1"],
               "full_negation_f1": table["full_negation"]["f1"], "scopes_cue_match_f1": table["scopes_cue_match"]["f1"],
               "scopes_no_cue_match_f1": table["scopes_no_cue_match"]["f1"], "gold_starsem": str(gold_path),
               "starsem": table}
    return metrics
