"""The splits of the two graph tasks as parser examples: NoReC_fine (finegrained) and NoReC_neg (negation).

Each sentence is encoded as a gold graph (the configured encoding), given substitute lemmas (and
POS when pos_style = "upos"), and cut to the configured subsets (same seeded rule as the other
tasks).  Sentences whose annotations cannot be encoded keep the rest of their graph; the counts
are reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from norlm.evaluate.graph.data import fine_path, neg_path, read_fine, read_neg
from norlm.evaluate.graph.encode import negation_graph, sentiment_graph
from norlm.evaluate.graph.features import GraphExample
from norlm.evaluate.graph.lemmas import Lookup
from norlm.evaluate.tasks import _subset

DATASETS = {"finegrained": "NoReC_fine", "negation": "NoReC_neg"}


@dataclass
class GraphTaskData:
    task: str
    encoding: str
    train: list[GraphExample]
    dev: list[GraphExample]
    test: list[GraphExample]
    protocol: str
    notes: list[str] = field(default_factory=list)
    sizes_full: dict[str, int] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    skipped: int = 0

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "dev": len(self.dev), "test": len(self.test)}

    def subsetted(self, split: str) -> bool:
        return len(getattr(self, split)) < self.sizes_full[split]


def to_examples(sentences: list, task: str, encoding: str, lookup: Lookup, pos_style: str,
                stats: dict) -> list[GraphExample]:
    graph = sentiment_graph if task == "finegrained" else negation_graph
    out = []
    for s in sentences:
        forms = s.tokens
        pos = [lookup.upos_of(f) for f in forms] if pos_style == "upos" else ["_"] * len(forms)
        out.append(GraphExample(s.sent_id, s.text, forms, [lookup.lemma_of(f) for f in forms], pos,
                                graph(s, encoding, stats), source=s))
    return out


def load_graph_task(task: str, data_dir, ecfg, seed: int, lookup: Lookup) -> GraphTaskData:
    """Read, encode and (for the demo config) subset the three splits of `task`."""
    p = ecfg.graph
    read, path_of = (read_fine, fine_path) if task == "finegrained" else (read_neg, neg_path)
    stats: dict[str, int] = {}
    splits, full, notes, skipped = {}, {}, [], 0
    limits = {"train": p.train_sentences, "dev": p.dev_sentences, "test": p.test_sentences}
    for k, split in enumerate(("train", "dev", "test"), 1):
        sentences, bad = read(path_of(data_dir, split))
        skipped += bad
        full[split] = len(sentences)
        chosen = _subset(sentences, limits[split], seed + k)
        if len(chosen) < len(sentences):
            notes.append(f"{split}: subset of {len(chosen)} of {len(sentences)} sentences")
        splits[split] = to_examples(chosen, task, p.encoding, lookup, p.pos_style, stats)
    protocol = "paper" + (", subsets" if notes else "")
    if p.epochs < 100:
        protocol = protocol.replace("paper", "demo")
    cov = lookup.coverage([f for ex in splits["train"] for f in ex.forms])
    notes.append(f"lemmas: {100 * cov:.1f}% of train tokens found in the NDT/UD lookup, the rest lower-cased forms")
    if stats:
        notes.append("not encodable: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.items())))
    return GraphTaskData(task, p.encoding, splits["train"], splits["dev"], splits["test"], protocol, notes, full,
                         stats, skipped)
