"""Run one (model, task, language) evaluation over every seed and store its result file entry."""
from __future__ import annotations

import time
from pathlib import Path

from norlm.config import to_dict
from norlm.evaluate.results import fingerprint, load_entry, model_files_digest, summarise, write_result
from norlm.layout import Layout, repo_path
from norlm.evaluate.tasks import GRAPH_TASKS, load_task

METRIC = {"pos": "accuracy", "ner": "strict micro F1 (8 types, MISC ignored)", "sentiment": "macro F1"}


class Runner:
    """Holds what is shared between runs: config, seeds, model digests and ELMo embedders."""

    def __init__(self, cfg, lay: Layout, seeds: list[int], force: bool = False, cli_seeds: int | None = None):
        self.cfg = cfg
        self.ecfg = cfg.evaluate
        self.lay = lay
        self.data_dir = repo_path(cfg.run.data_dir)
        self.seeds = seeds
        self.cli_seeds = cli_seeds  # --seeds, when given, overrides every protocol's own seed count
        self.force = force
        self._digests: dict[str, dict] = {}
        self._embedders: dict[str, object] = {}

    def _digest(self, folder: Path) -> dict:
        key = str(folder.resolve())
        if key not in self._digests:
            self._digests[key] = model_files_digest(folder)
        return self._digests[key]

    def _embedder(self, spec: dict):
        """ELMo, or BERT as frozen features (its random-init twin seeded with the run seed)."""
        key = str(spec["path"].resolve()) + (f"|bert|{spec['pretrained']}" if spec["kind"] == "bert" else "")
        if key not in self._embedders:
            if spec["kind"] == "bert":
                from norlm.evaluate.bert_probe import BertWordEmbedder

                self._embedders[key] = BertWordEmbedder(spec["path"], spec["pretrained"], self.cfg.run.seed,
                                                        self.ecfg.bert.max_length)
            else:
                from norlm.elmo.embed import ElmoEmbedder

                self._embedders[key] = ElmoEmbedder(spec["path"], batch_size=self.ecfg.elmo.embed_batch_size)
        return self._embedders[key]

    def seeds_of(self, protocol) -> list[int]:
        """The run's seeds, or the first N of the same sequence when the protocol sets its own count N."""
        n = getattr(protocol, "seeds", 0)
        if self.cli_seeds is not None or not n:
            return self.seeds
        return [self.cfg.run.seed + i for i in range(n)]

    def up_to_date(self, path, lang: str, fp: str, label: str) -> dict | None:
        """The stored entry of `path` when its inputs are unchanged (and no --force), announced; else None."""
        if self.force:
            return None
        entry = load_entry(path, lang, fp)
        if entry is not None:
            print(f"evaluate: {label} is up to date ({path})")
        return entry

    def run(self, spec: dict, task: str, lang: str) -> dict:
        if task in GRAPH_TASKS:
            from norlm.evaluate.graph.run import run_graph

            return run_graph(self, spec, task)
        ecfg = self.ecfg
        data = load_task(task, lang, self.data_dir, ecfg, self.cfg.run.seed)
        frozen = spec["kind"] == "elmo" or spec.get("frozen", False)
        protocol = ecfg.elmo if frozen else ecfg.bert
        seeds = self.seeds_of(protocol)
        fp = fingerprint(spec["kind"], spec["pretrained"], self._digest(spec["path"]), task, lang, to_dict(protocol),
                         data.sizes(), data.sizes_full, ecfg.pos_heldout_fraction, seeds, self.cfg.run.seed,
                         *(["frozen", ecfg.bert.max_length] if spec["kind"] == "bert" and frozen else []))
        path = self.lay.eval_result(task, spec["name"])
        entry = self.up_to_date(path, lang, fp, f"{task}/{lang}/{spec['name']}")
        if entry is not None:
            return entry
        print(f"evaluate: {task}/{lang}/{spec['name']}: train/dev/test {data.sizes()} sentences, "
              f"{len(seeds)} seed(s), {data.protocol} protocol")
        runs, facts, header_extra = [], {}, {}
        if not frozen:
            from norlm.evaluate.bert_finetune import run_bert
            from norlm.evaluate.bert_models import load_bert

            lr = protocol.learning_rate
            if not spec["pretrained"] and protocol.baseline_learning_rate > 0:
                lr = protocol.baseline_learning_rate
            for seed in seeds:
                t0 = time.perf_counter()
                bundle = load_bert(spec["path"], pretrained=spec["pretrained"], seed=seed)
                result, facts = run_bert(bundle, data, protocol, seed, lr, f"{task}/{lang}/{spec['name']} seed {seed}")
                runs.append(self._run_record(seed, result, time.perf_counter() - t0))
                header_extra = {"parameters": bundle.parameters, "bert_config": bundle.config.to_json_dict()}
        else:
            from norlm.evaluate.elmo_probe import featurise, run_elmo

            splits, feature_seconds = featurise(self._embedder(spec), data, protocol.embed_batch_size)
            for seed in seeds:
                t0 = time.perf_counter()
                result, facts = run_elmo(splits, data, protocol, seed, f"{task}/{lang}/{spec['name']} seed {seed}")
                runs.append(self._run_record(seed, result, feature_seconds + time.perf_counter() - t0))
            facts["feature_seconds"] = feature_seconds
            if spec["kind"] == "bert":
                from norlm.evaluate.bert_probe import PROTOCOL

                facts.pop("elmo_layers", None)
                facts["bert_features"] = PROTOCOL
        entry = {
            "fingerprint": fp, "data_protocol": data.protocol, "notes": data.notes, "sizes": data.sizes(),
            "sizes_full": data.sizes_full, "skipped_records": data.skipped, "labels": data.labels,
            "protocol": facts, "runs": runs, "summary": summarise(runs),
        }
        header = {"task": task, "model": spec["name"], "label": spec["label"], "kind": spec["kind"], "frozen": frozen,
                  "model_source": str(spec["path"]), "pretrained": spec["pretrained"], "metric": METRIC[task],
                  "model_files_sha256": self._digest(spec["path"]), "run_seed": self.cfg.run.seed,
                  "config_file": self.cfg.source, "evaluate_config": to_dict(ecfg), **header_extra}
        write_result(path, header, lang, entry)
        s = entry["summary"]
        print(f"evaluate: {task}/{lang}/{spec['name']}: test {METRIC[task]} {100 * s['test_mean']:.2f}"
              f" ± {100 * s['test_sd']:.2f} (dev {100 * s['dev_mean']:.2f}), {s['seconds_mean']:.1f} s per run"
              f" -> {path}")
        return entry

    @staticmethod
    def _run_record(seed: int, result, seconds: float) -> dict:
        return {"seed": seed, "best_epoch": result.best_epoch, "dev": result.dev, "test": result.test,
                "curve": result.curve, "train_seconds": result.train_seconds, "seconds": round(seconds, 3)}
