"""Graph CoNLL-U: the ten CoNLL-U columns plus an 11th with `head:label` arcs joined by `|`.

This is the file format of the sentiment-graph parser: the gold files, the parser's predictions and
the NorLM-era sentiment scorer all use it.  `# sent_id = ` and `# text = ` comments carry what is
needed to convert a graph back to the dataset JSON.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from norlm.evaluate.readers import DataError
from norlm.files import atomic_open, open_text


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


def parse_arcs(cell: str, where: str) -> list[tuple[int, str]]:
    if cell == "_":
        return []
    out = []
    for part in cell.split("|"):
        head, sep, label = part.partition(":")
        if not sep or not head.isdigit() or not label:
            raise ValueError(f"{where}: bad arc {part!r} (expected head:label)")
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


def read_graph_conllu(path: str | Path) -> tuple[list[GraphSentence], int]:
    """Read a graph CoNLL-U file; a malformed sentence is reported (file:line) and skipped."""
    path = Path(path)
    out: list[GraphSentence] = []
    skipped = 0
    try:
        fh = open_text(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    meta: dict[str, str] = {}
    rows: list[tuple[int, list[str]]] = []

    def flush():
        nonlocal skipped
        if not rows:
            meta.clear()
            return
        try:
            forms, lemmas, upos, arcs = [], [], [], []
            for k, (lineno, cols) in enumerate(rows):
                where = f"{path}:{lineno}"
                if len(cols) < 11:
                    raise ValueError(f"{where}: {len(cols)} columns, expected 11")
                if cols[0] != str(k + 1):
                    raise ValueError(f"{where}: token id {cols[0]!r}, expected {k + 1}")
                forms.append(cols[1])
                lemmas.append(cols[2])
                upos.append(cols[3])
                arcs.append(parse_arcs(cols[10], where))
            n = len(forms)
            for lineno, cols in rows:
                for h, _ in parse_arcs(cols[10], f"{path}:{lineno}"):
                    if h > n:
                        raise ValueError(f"{path}:{lineno}: head {h} beyond the sentence ({n} tokens)")
            sid = meta.get("sent_id", str(len(out) + 1))
            out.append(GraphSentence(sid, meta.get("text", " ".join(forms)), forms, arcs, lemmas, upos))
        except ValueError as exc:
            print(f"warning: {exc}; sentence skipped")
            skipped += 1
        rows.clear()
        meta.clear()

    with fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                flush()
            elif line.startswith("#"):
                key, sep, value = line[1:].partition("=")
                if sep:
                    meta[key.strip()] = value.strip()
            else:
                rows.append((lineno, line.split("\t")))
        flush()
    if not out:
        raise DataError(f"{path}: no usable sentence")
    return out, skipped
