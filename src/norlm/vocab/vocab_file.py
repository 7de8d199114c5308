"""Reading a WordPiece vocab.txt exactly as BERT's original TensorFlow tokenizer reads it.

BERT's loader strips every line and stores ``vocab[token] = line_index`` in a dict, so for a
token that occurs twice the *last* line wins, and a blank line becomes the token ``""``.  The
published NorBERT vocabulary relies on this (bert-recipe §3.5), so every reader in NorLM goes
through here instead of re-implementing it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@dataclass(frozen=True)
class VocabFile:
    """The lines of a vocab file and the id each distinct token gets (last occurrence wins)."""

    path: str
    lines: tuple[str, ...]  # after strip(), one per line, in file order
    ids: dict[str, int]  # token -> id of its last occurrence

    @property
    def shadowed(self) -> list[int]:
        """Line indices whose token occurs again later (BERT never emits these ids)."""
        return [i for i, tok in enumerate(self.lines) if self.ids[tok] != i]


def read_vocab(path: str | os.PathLike) -> VocabFile:
    """Read `path` (UTF-8, one token per line) the way BERT's `load_vocab` does."""
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not valid UTF-8 ({exc.reason})") from None
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()  # the final newline ends the last line; it does not start a new one
    lines = tuple(p.strip() for p in parts)
    ids: dict[str, int] = {}
    for index, token in enumerate(lines):
        ids[token] = index
    return VocabFile(str(path), lines, ids)


def write_vocab(path: str | os.PathLike, tokens: list[str]) -> None:
    """Write tokens one per line, refusing anything that would not read back identically."""
    from norlm.files import atomic_open

    seen: set[str] = set()
    for i, tok in enumerate(tokens):
        if not tok or tok != tok.strip() or "\n" in tok or "\r" in tok:
            raise ValueError(f"vocab entry {i} {tok!r} is empty or contains whitespace at an edge or a newline")
        if tok in seen:
            raise ValueError(f"vocab entry {i} {tok!r} is a duplicate")
        seen.add(tok)
    with atomic_open(path, "w") as fh:
        fh.write("".join(t + "\n" for t in tokens))


def vocab_size(path: str | os.PathLike) -> int:
    """Number of ids a vocab.txt defines (its lines): the one count every stage uses."""
    return len(read_vocab(path).lines)
