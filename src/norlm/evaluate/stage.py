"""Evaluate BERT / ELMo / baseline models on POS (UD 2.7), NER (NorNE) and sentiment (NoReC_sentence).

BERT models (our export, the random-init baseline, or any local Hugging Face BERT folder given as
--model PATH) are fine-tuned end to end; ELMo is used as frozen features under small classifiers.
Each (task, model) writes WORK/eval/<task>/<model>.json (scores per seed, mean ± sd, per-class
scores, timings, protocol); WORK/eval/report.md, written last, has the paper-style tables.
Finished entries whose inputs did not change are skipped on a rerun (use --force to redo them).

Examples:
  norlm evaluate --config configs/demo.toml --task all --model all
  norlm evaluate --task ner --model /models/nb-bert-base --lang both --seeds 5
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from norlm.config import to_dict
from norlm.errors import StageError, StageFailure, warn
from norlm.layout import Layout, layout_of
from norlm.evaluate.readers import DataError
from norlm.evaluate.tasks import GRAPH_TASKS, LANGS, TASKS

BUILTIN_MODELS = ("bert", "elmo", "baseline", "bert-frozen", "baseline-frozen", "elmo-random", "none")
LABELS = {"bert": "BERT (this run)", "elmo": "ELMo (this run)", "baseline": "no pretraining (random-init BERT)",
          "bert-frozen": "BERT (this run), frozen", "baseline-frozen": "random-init BERT, frozen",
          "elmo-random": "untrained ELMo twin"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="all",
                        help="pos | ner | sentiment | finegrained | negation | all (all = the tasks of [evaluate] "
                             "tasks); comma-separated ok.  finegrained/negation: the graph parser on frozen LM "
                             "vectors (NoReC_fine, NoReC_neg; Tables 4 and 6)")
    parser.add_argument("--model", default="all",
                        help="bert | elmo | baseline | bert-frozen | baseline-frozen | elmo-random | all (all = "
                             "[evaluate] models), or the path of a local Hugging Face BERT folder (e.g. an imported "
                             "mBERT / NB-BERT / NorBERT); comma-separated ok.  *-frozen: BERT's last layer as frozen "
                             "features under the ELMo classifiers; elmo-random: the untrained twin elmo-export writes; "
                             "none: the graph parser without LM vectors (finegrained/negation only)")
    parser.add_argument("--lang", default=None, choices=("nob", "nno", "both"),
                        help="Bokmål, Nynorsk or both (default: [evaluate] langs); sentiment is Bokmål only")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds per run, for every protocol; tables show mean ± sd (default: [evaluate] seeds "
                             "for fine-tuning, evaluate.elmo.seeds for the frozen probes, evaluate.graph.n_seeds "
                             "for the graph parser)")
    parser.add_argument("--force", action="store_true", help="redo runs even when their result is up to date")
    parser.add_argument("--report-only", action="store_true", help="only rebuild report.md from existing results")


def _split_arg(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def resolve_models(arg: str, ecfg, lay: Layout) -> list[dict]:
    """Model specs: name (file stem), kind (bert|elmo), folder, pretrained, label, explicit."""
    names = _split_arg(arg)
    explicit = names != ["all"]
    if not explicit:
        names = list(ecfg.models)
    bert_dir = Path(ecfg.bert_model) if ecfg.bert_model else lay.hf_dir
    elmo_dir = Path(ecfg.elmo_model) if ecfg.elmo_model else lay.elmo_export
    specs = []
    for name in names:
        if name == "bert":
            specs.append(dict(name="bert", kind="bert", path=bert_dir, pretrained=True))
        elif name == "baseline":
            specs.append(dict(name="baseline", kind="bert", path=bert_dir, pretrained=False))
        elif name == "elmo":
            specs.append(dict(name="elmo", kind="elmo", path=elmo_dir, pretrained=True))
        elif name == "none":  # graph tasks only: the parser without LM vectors
            specs.append(dict(name="none", kind="none", path=Path("."), pretrained=False, label="no LM (parser only)"))
        elif name == "elmo-random":
            specs.append(dict(name="elmo-random", kind="elmo", path=lay.elmo_random_dir, pretrained=False))
        elif name in ("bert-frozen", "baseline-frozen"):
            specs.append(dict(name=name, kind="bert", path=bert_dir, pretrained=name == "bert-frozen", frozen=True))
        else:
            path = Path(name)
            if not path.is_dir():
                raise DataError(f"--model {name}: not one of {', '.join(BUILTIN_MODELS)} and not a folder")
            folder = path.resolve()
            stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", folder.name if folder.name != "hf" else folder.parent.name + "-hf")
            specs.append(dict(name=stem, kind="bert", path=path, pretrained=True, label=f"{stem} (imported)"))
    for spec in specs:
        spec.setdefault("label", LABELS.get(spec["name"], spec["name"]))
        spec["explicit"] = explicit
    return specs


def _available(spec: dict) -> str | None:
    if spec["kind"] == "none":
        return None
    folder = spec["path"]
    need = "config.json" if spec["kind"] == "bert" else "model.hdf5"
    return None if (folder / need).is_file() else f"{folder / need} not found"


def _wanted(spec: dict, task: str, ecfg) -> bool:
    """Graph tasks run [evaluate.graph] models (and "none"); the others [evaluate] models, never "none"."""
    if task in GRAPH_TASKS:
        return spec["explicit"] or spec["name"] in ecfg.graph.models
    return spec["kind"] != "none" and (spec["explicit"] or spec["name"] in ecfg.models)


def main(args: argparse.Namespace, cfg) -> int:
    from norlm.evaluate.eval_report import write_report

    ecfg = cfg.evaluate
    lay = layout_of(cfg)
    if args.report_only:
        path = write_report(lay, cfg.run.name)
        print(f"evaluate: wrote {path}")
        return 0
    tasks = list(ecfg.tasks) if args.task == "all" else _split_arg(args.task)
    for task in tasks:
        if task not in TASKS:
            raise StageError(f"unknown task {task!r} (choose from {', '.join(TASKS)} or all)")
    langs = list(LANGS) if args.lang == "both" else [args.lang] if args.lang else list(ecfg.langs)
    n_seeds = args.seeds if args.seeds is not None else ecfg.seeds
    if n_seeds < 1:
        raise StageError("--seeds must be at least 1")
    seeds = [cfg.run.seed + i for i in range(n_seeds)]
    specs = resolve_models(args.model, ecfg, lay)
    if args.model == "all" and any(t in GRAPH_TASKS for t in tasks):  # plus [evaluate.graph] models
        have = {s["name"] for s in specs}
        specs += [dict(s, explicit=False) for s in resolve_models(",".join(ecfg.graph.models), ecfg, lay)
                  if s["name"] not in have]

    pairs = [(task, lang) for task in tasks if task not in GRAPH_TASKS for lang in langs
             if task != "sentiment" or lang == "nob"] + [(task, "nob") for task in tasks if task in GRAPH_TASKS]
    if not pairs:
        raise StageError("NoReC_sentence is Bokmål only; use --lang nob or both for sentiment")

    from norlm.evaluate.runner import Runner

    runner = Runner(cfg, lay, seeds, force=args.force, cli_seeds=args.seeds)
    skipped_models, done = [], 0
    for spec in specs:
        missing = _available(spec)
        if missing:
            if spec["explicit"]:
                raise StageFailure(f"model {spec['name']}: {missing}")
            warn(f"skipping model {spec['name']}: {missing}")
            skipped_models.append(f"{spec['name']}: {missing}")
            continue
        for task, lang in pairs:
            if not _wanted(spec, task, ecfg):
                continue
            try:
                runner.run(spec, task, lang)
            except DataError as exc:
                raise StageFailure(f"{task}/{lang}/{spec['name']}: {exc}") from None
            done += 1
    if done == 0:
        raise StageFailure("nothing to evaluate (no model available)")
    from norlm.files import write_run_record

    write_run_record(lay.eval_dir, cfg, "evaluate", tasks=tasks, langs=langs, seeds=seeds,
                     models={s["name"]: str(s["path"]) for s in specs}, skipped_models=skipped_models,
                     evaluate=to_dict(ecfg))
    if ecfg.learning_signals:
        from norlm.evaluate.learning_signals import compute

        signals = compute(cfg, lay, runner.data_dir)
        print(f"evaluate: learning signals in {signals['seconds']:.0f} s -> {lay.eval_signals}")
    notes = [f"model skipped: {m}" for m in skipped_models]
    path = write_report(lay, cfg.run.name, notes)
    print(f"evaluate: {done} run(s) up to date; report {path}")
    return 0
