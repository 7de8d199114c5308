"""`norlm evaluate --task finegrained,negation`: one (model, graph task) over every seed.

Writes WORK/eval/<task>/<model>.json (entry "nob": every metric per seed, mean ± sd, best epochs,
dev curves, timings, the lemma source, the trivial baseline's scores) and the prediction files of
each seed under WORK/eval/<task>/<model>/seed<k>/.  LM vectors are computed once per split and
cached in WORK/eval/<task>/vectors/; the lemma lookup in WORK/eval/graph_lemmas.tsv.gz.
"""
from __future__ import annotations

import time

from norlm.config import to_dict
from norlm.evaluate.graph.baseline import lexicon_predictions, root_lexicon
from norlm.evaluate.graph.features import build_vocabs, featurise
from norlm.evaluate.graph.lemmas import SOURCE_TEXT, load_lookup
from norlm.evaluate.graph.outputs import HEADLINE, score_split
from norlm.evaluate.graph.splits import DATASETS, load_graph_task
from norlm.evaluate.graph.train import train_parser
from norlm.evaluate.graph.vectors import attach_vectors, extraction_facts
from norlm.evaluate.results import fingerprint, mean_sd, summarise, write_result

LANG = "nob"  # NoReC is one (mostly Bokmål) data set; results are stored under this key


def graph_seeds(protocol, n_cli: int | None, n_cfg: int) -> list[int]:
    """The first N of the configured seeds (the paper's five); N from --seeds, graph.n_seeds or seeds."""
    n = n_cli or protocol.n_seeds or n_cfg
    seeds = list(protocol.seeds[:n])
    while len(seeds) < n:
        seeds.append(seeds[-1] + 1)
    return seeds


def _summary_metrics(runs: list[dict], side: str) -> dict:
    keys = [k for k, v in runs[0][side].items() if isinstance(v, (int, float))]
    out = {}
    for k in keys:
        mean, sd = mean_sd([float(r[side][k]) for r in runs])
        out[k] = {"mean": round(mean, 4), "sd": round(sd, 4)}
    return out


def _with_score(task: str, metrics: dict) -> dict:
    return {"score": metrics[HEADLINE[task][0]] / 100.0, **metrics}


def run_graph(runner, spec: dict, task: str) -> dict:
    """Evaluate one model spec (kind bert | elmo | none) on one graph task; returns the stored entry."""
    cfg, ecfg, lay = runner.cfg, runner.ecfg, runner.lay
    p = ecfg.graph
    lookup = load_lookup(runner.data_dir, lay.eval_dir / "graph_lemmas.tsv.gz")
    data = load_graph_task(task, runner.data_dir, ecfg, cfg.run.seed, lookup)
    seeds = graph_seeds(p, runner.cli_seeds, ecfg.seeds)
    digest = runner._digest(spec["path"]) if spec["kind"] != "none" else {}
    fp = fingerprint("graph", spec["kind"], spec["pretrained"], digest, task, to_dict(p), data.sizes(),
                     data.sizes_full, seeds, cfg.run.seed)
    path = lay.eval_result(task, spec["name"])
    entry = runner.up_to_date(path, LANG, fp, f"{task}/{spec['name']}")
    if entry is not None:
        return entry
    print(f"evaluate: {task}/{spec['name']}: train/dev/test {data.sizes()} sentences, {len(seeds)} seed(s), "
          f"{data.protocol} protocol, {p.epochs} epochs")
    feature_seconds, cached = 0.0, []
    if spec["kind"] != "none":
        for split in ("train", "dev", "test"):
            secs, hit = attach_vectors(getattr(data, split), spec, digest, lay.eval_task(task) / "vectors", p,
                                       cfg.run.seed, f"{spec['name']} vectors {task} {split}")
            feature_seconds += secs
            cached.append(hit)
    vocabs = build_vocabs(data.train, data.dev, int(p.min_count.get(task, 0)))
    for split in ("train", "dev", "test"):
        for ex in getattr(data, split):
            ex.inputs = featurise(ex, vocabs)
    complete = {s: not data.subsetted(s) for s in ("dev", "test")}
    lexicon = root_lexicon(data.train)
    base_dir = lay.eval_task(task) / "lexicon-baseline"
    baseline = {s: score_split(task, s, getattr(data, s), lexicon_predictions(lexicon, getattr(data, s), vocabs.labels),
                               vocabs.labels, base_dir, runner.data_dir, complete[s], p.encoding)
                for s in ("dev", "test")}
    runs, parameters = [], 0
    for seed in seeds:
        t0 = time.perf_counter()
        pr = train_parser({"train": data.train, "dev": data.dev, "test": data.test}, vocabs, p, seed,
                          desc=f"{task}/{spec['name']} seed {seed}")
        parameters = pr.parameters
        folder = lay.eval_task(task) / spec["name"] / f"seed{seed}"
        scores = {s: score_split(task, s, getattr(data, s), pred, vocabs.labels, folder, runner.data_dir,
                                 complete[s], p.encoding) for s, pred in (("dev", pr.dev_pred), ("test", pr.test_pred))}
        dev, test = _with_score(task, scores["dev"]), _with_score(task, scores["test"])
        dev["selection_lf1"] = round(100 * pr.fit.dev["lf1"], 4)
        runs.append({"seed": seed, "best_epoch": pr.fit.best_epoch, "dev": dev, "test": test, "curve": pr.fit.curve,
                     "train_seconds": pr.fit.train_seconds,
                     "seconds": round(feature_seconds + time.perf_counter() - t0, 3), "predictions": str(folder)})
        print(f"evaluate: {task}/{spec['name']} seed {seed}: best epoch {pr.fit.best_epoch}, test "
              f"{HEADLINE[task][1]} {test[HEADLINE[task][0]]:.2f}")
    summary = summarise(runs)
    summary["test_metrics"] = _summary_metrics(runs, "test")
    summary["dev_metrics"] = _summary_metrics(runs, "dev")
    facts = {"parser": "graph parser (Dozat & Manning style, Kurtz et al. 2020 settings)", **to_dict(p),
             **extraction_facts(spec, p), "seeds": seeds, "parameters": parameters, "vocab_sizes": vocabs.sizes(),
             "lemma_source": SOURCE_TEXT, "pos_source": "none (column `_`)" if p.pos_style == "xpos"
             else "UPOS lookup from UD 2.7 dev/test, else X", "external_word_vectors": "none (NLPL id 58 not bundled)",
             "feature_seconds": feature_seconds, "vectors_from_cache": cached,
             "selection": "epoch with the strictly best dev labelled-arc F1 (every cell, ROOT row included)",
             "headline_metric": HEADLINE[task][1]}
    entry = {"fingerprint": fp, "data_protocol": data.protocol, "notes": data.notes, "sizes": data.sizes(),
             "sizes_full": data.sizes_full, "skipped_records": data.skipped, "labels": vocabs.labels[1:],
             "encoding_stats": data.stats, "protocol": facts, "runs": runs, "summary": summary,
             "trivial_baseline": {"what": "train lexicon of one-token roots (cue / exp-<polarity>), no context",
                                  "dev": baseline["dev"], "test": baseline["test"]}}
    header = {"task": task, "dataset": DATASETS[task], "model": spec["name"], "label": spec["label"],
              "kind": spec["kind"], "model_source": str(spec["path"]) if spec["kind"] != "none" else "",
              "pretrained": spec["pretrained"],
              "metric": f"{HEADLINE[task][1]}; curves: dev labelled-arc F1", "model_files_sha256": digest,
              "run_seed": cfg.run.seed, "config_file": cfg.source, "evaluate_config": to_dict(ecfg),
              "lemma_source": SOURCE_TEXT}
    write_result(path, header, LANG, entry)
    m = summary["test_metrics"][HEADLINE[task][0]]
    print(f"evaluate: {task}/{spec['name']}: test {HEADLINE[task][1]} {m['mean']:.2f} ± {m['sd']:.2f} "
          f"(lexicon baseline {baseline['test'][HEADLINE[task][0]]:.2f}), {summary['seconds_mean']:.1f} s per run -> {path}")
    return entry
