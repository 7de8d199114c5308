"""Which files make each task's train/dev/test split, under the full or the demo protocol.

POS: UD 2.7.  The train files are download-only; without them the demo protocol trains on UD dev
minus a seeded held-out slice (used for model selection) and reports UD test.
NER: NorNE; train rebuilt from the bundled NDT files, dev/test are NorNE's UD files.
Sentiment: NoReC_sentence binary CSV (the paper's version).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from norlm.evaluate.graph import GRAPH_TASKS
from norlm.evaluate.readers import DataError, ReadResult, read_conllu, read_ndt_split, read_norec_csv

TASKS = ("pos", "ner", "sentiment") + GRAPH_TASKS  # the graph tasks load through norlm.evaluate.graph.splits
LANGS = ("nob", "nno")
UD_FOLDERS = {"nob": ("UD_Norwegian-Bokmaal", "no_bokmaal"), "nno": ("UD_Norwegian-Nynorsk", "no_nynorsk")}
SENTIMENT_LABELS = ("negative", "positive")


@dataclass
class TaskData:
    """The three splits of one task and language, with how they were obtained."""

    task: str
    lang: str
    train: list
    dev: list
    test: list
    labels: list[str]
    protocol: str  # "paper" or "demo", plus ", subsets" when splits were cut down
    notes: list[str] = field(default_factory=list)
    skipped: int = 0
    sizes_full: dict[str, int] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "sentence" if self.task == "sentiment" else "token"

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "dev": len(self.dev), "test": len(self.test)}


def _ud_path(folder: Path, lang: str, split: str) -> Path | None:
    name = f"{UD_FOLDERS[lang][1]}-ud-{split}.conllu"
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.exists():
            return candidate
    return None


def _require(path: Path | None, what: str) -> Path:
    if path is None:
        raise DataError(f"{what}: file not found")
    return path


def _subset(records: list, limit: int, seed: int) -> list:
    """The first `limit` records after a seeded shuffle (order kept); all of them when limit <= 0."""
    if limit <= 0 or limit >= len(records):
        return records
    keep = sorted(random.Random(seed).sample(range(len(records)), limit))
    return [records[i] for i in keep]


def load_task(task: str, lang: str, data_dir: str | Path, ecfg, seed: int) -> TaskData:
    """Read and (for the demo config) subset the splits of `task` in `lang`."""
    data_dir = Path(data_dir)
    if task not in TASKS or task in GRAPH_TASKS:
        raise DataError(f"unknown task {task!r} (known: {', '.join(TASKS)})")
    if task == "sentiment" and lang != "nob":
        raise DataError("NoReC_sentence is a single (mostly Bokmål) data set; use --lang nob")
    reads: dict[str, ReadResult] = {}
    notes: list[str] = []
    protocol = "paper"
    if task == "pos":
        ud_dir = data_dir / "ud27" / UD_FOLDERS[lang][0]
        train_dir = Path(ecfg.ud_train_dir) if ecfg.ud_train_dir else ud_dir
        train_path = _ud_path(train_dir, lang, "train")
        if train_path is None and ecfg.ud_train_dir:
            raise DataError(f"{train_dir}: no {UD_FOLDERS[lang][1]}-ud-train.conllu[.gz] (evaluate.ud_train_dir); "
                            f"fetch it with `norlm data fetch ud27-{lang}-train --dest {train_dir}`")
        dev = read_conllu(_require(_ud_path(ud_dir, lang, "dev"), f"{ud_dir} UD 2.7 dev"))
        reads["test"] = read_conllu(_require(_ud_path(ud_dir, lang, "test"), f"{ud_dir} UD 2.7 test"))
        if train_path is not None:
            reads["train"], reads["dev"] = read_conllu(train_path), dev
        else:
            protocol = "demo"
            order = list(range(len(dev.records)))
            random.Random(seed).shuffle(order)
            n_held = max(1, int(round(len(order) * ecfg.pos_heldout_fraction)))
            held = set(order[:n_held])
            reads["train"] = ReadResult([s for i, s in enumerate(dev.records) if i not in held], dev.skipped)
            reads["dev"] = ReadResult([s for i, s in enumerate(dev.records) if i in held])
            notes.append(f"demo protocol: UD 2.7 train not available ({train_dir}); trained on UD dev minus a "
                         f"held-out {ecfg.pos_heldout_fraction:.0%} slice ({n_held} sentences) used for model "
                         "selection; scores on UD test")
        labels = sorted({t for s in reads["train"].records + reads["dev"].records for t in s.upos})
    elif task == "ner":
        norne = data_dir / "norne"
        reads["train"] = read_ndt_split(norne / "ndt", norne / "norne_ndt_split.tsv", lang, "train")
        prefix = UD_FOLDERS[lang][1]
        for split in ("dev", "test"):
            base = norne / "ud" / lang / f"{prefix}-ud-{split}.conllu"
            reads[split] = read_conllu(base if base.exists() else base.with_name(base.name + ".gz"))
        notes.append("NorNE train rebuilt from the NDT files (headline `|` tokens dropped); dev/test NorNE UD files")
        tags = {t for s in reads["train"].records + reads["dev"].records for t in s.ner}
        labels = ["O"] + sorted(t for t in tags if t != "O")
    else:
        for split in ("train", "dev", "test"):
            reads[split] = read_norec_csv(data_dir / "norec_sentence" / "binary" / f"{split}.csv")
        labels = list(SENTIMENT_LABELS)
    for split, read in reads.items():
        if not read.records:
            raise DataError(f"{task}/{lang}: no usable {split} records")
    limits = {"train": ecfg.train_sentences, "dev": ecfg.dev_sentences, "test": ecfg.test_sentences}
    splits = {}
    subsetted = False
    for split in ("train", "dev", "test"):
        read = reads[split]
        limit = int(limits[split].get(task, 0))
        splits[split] = _subset(read.records, limit, seed + {"train": 1, "dev": 2, "test": 3}[split])
        if len(splits[split]) < len(read.records):
            notes.append(f"{split}: subset of {len(splits[split])} of {len(read.records)} sentences")
            subsetted = True
    if subsetted:
        protocol += ", subsets"
    return TaskData(task, lang, splits["train"], splits["dev"], splits["test"], labels, protocol, notes,
                    skipped=sum(r.skipped for r in reads.values()),
                    sizes_full={k: len(reads[k].records) for k in ("train", "dev", "test")})
