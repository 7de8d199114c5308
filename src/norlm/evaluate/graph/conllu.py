"""Graph CoNLL-U: the ten CoNLL-U columns plus an 11th with `head:label` arcs joined by `|`.

This is the file format of the sentiment-graph parser: the gold files, the parser's predictions and
the NorLM-era sentiment scorer all use it.  `# sent_id = ` and `# text = ` comments carry what is
needed to convert a graph back to the dataset JSON.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from norlm import conll
from norlm.files import atomic_open


@dataclass
class GraphSentence:
    sent_id: str
    text: str
    forms: list[str]
    arcs: list[list[tuple[int, str]]]  # per token (0-based list), incoming (head, label); head 0 = ROOT
    lemmas: list[str] = field(default_factory=list)
    upos: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.forms)


def format_arcs(entries: list[tuple[int, str]]) -> str:
    return "|".join(f"{h}:{lab}" for h, lab in entries) if entries else "_"


SENTIMENT_LABEL = re.compile(r"(IN:)?(holder|targ|exp-(Positive|Negative|Neutral|None))")
NEGATION_LABEL = re.compile(r"(IN:)?(cue|scope)")
LABELS = {"sentiment": SENTIMENT_LABEL, "negation": NEGATION_LABEL}


def parse_arcs(cell: str, where: str, n: int | None = None, labels: re.Pattern | None = None) -> list[tuple[int, str]]:
    """`head:label|...` -> [(head, label)]; heads checked against 0..n and labels against `labels`."""
    if cell == "_":
        return []
    out = []
    for part in cell.split("|"):
        head, sep, label = part.partition(":")
        if not sep or not head.isdigit() or not label:
            raise ValueError(f"{where}: bad arc {part!r} (expected head:label)")
        if n is not None and int(head) > n:
            raise ValueError(f"{where}: head {head} beyond the sentence ({n} tokens)")
        if labels is not None and not labels.fullmatch(label):
            raise ValueError(f"{where}: unknown arc label {label!r}")
        out.append((int(head), label))
    return out


def write_graph_conllu(path: str | Path, sentences: list[GraphSentence]) -> None:
    with atomic_open(path) as fh:
        for s in sentences:
            fh.write(f"# sent_id = {s.sent_id}\n# text = {s.text}\n")
            for i, form in enumerate(s.forms):
                lemma = s.lemmas[i] if s.lemmas else "_"
                upos = s.upos[i] if s.upos else "_"
                fh.write(f"{i + 1}\t{form}\t{lemma}\t{upos}\t_\t_\t_\t_\t_\t_\t{format_arcs(s.arcs[i])}\n")
            fh.write("\n")


def _graph_sentence(sentence: conll.Sentence, labels: re.Pattern | None, number: int) -> GraphSentence:
    forms, n = sentence.column("form"), len(sentence)
    arcs = []
    for cell, line in zip(sentence.column("arcs"), sentence.lines):
        try:
            arcs.append(parse_arcs(cell, "", n, labels))
        except ValueError as exc:
            raise conll.BadSentence(str(exc).removeprefix(": "), line) from None
    sid = sentence.meta.get("sent_id", str(number))
    return GraphSentence(sid, sentence.meta.get("text", " ".join(forms)), forms, arcs, sentence.column("lemma"),
                         sentence.column("upos"))


def read_graph_conllu(path: str | Path, task: str | None = None) -> tuple[list[GraphSentence], int]:
    """Read a graph CoNLL-U file; a malformed sentence is reported (FILE:LINE on stderr) and skipped.

    With `task` ("sentiment" or "negation") arc labels must be that task's; ConllError (exit 2)
    when no sentence is usable.
    """
    labels = LABELS[task] if task else None
    tally = conll.Tally()
    counter = iter(range(1, 1 << 62))
    sentences = conll.read_sentences(path, "graph", (), tally,
                                     convert=lambda s: _graph_sentence(s, labels, next(counter)))
    return sentences, tally.skipped
