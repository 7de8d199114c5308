"""NoReC_neg <-> the *SEM 2012 CD-SCO format (`neg_{dev,test}.starsem`), with the affix-cue rule.

Columns: `_  sent_id  token_index(0-based)  form  _  _  _`, then three per negation (cue, scope,
event; the event is always `_` here), or one `***` when the sentence has no negation.  The graph
parser marks a whole token as cue; the affix rule cuts the Norwegian negation affixes (u-, ikke-,
-fri, -løs, ...) back out of it, except for the listed words that are cues as a whole.
"""
from __future__ import annotations

import re
from pathlib import Path

from norlm.evaluate.graph.data import Sentence, token_offsets
from norlm.files import atomic_open

PREFIXES = ("U", "ikke-", "in", "mis", "utenom", "u")
SUFFIXES = ("frie", "fritt", "fri", "løse", "løst", "løs", "tomme")
NO_AFFIX = frozenset(("Unntaket", "Uten", "fri", "inga", "ingen", "ingenting", "inget", "intet", "mister",
                      "mistet", "unngå", "unngår", "unntak", "unntaket", "unntatt", "utan", "uteble", "uteblir",
                      "uten"))
_PREFIX_RE = re.compile("|".join("^" + re.escape(p) for p in PREFIXES))
_SUFFIX_RE = re.compile("|".join(re.escape(s) + "$" for s in SUFFIXES))


def affixer(word: str) -> tuple[str, tuple[int, int]]:
    """The negation affix of `word` and its span; the whole word when it has none (prefixes first)."""
    m = _PREFIX_RE.search(word) or _SUFFIX_RE.search(word)
    if m:
        return m.group(0), m.span()
    return word, (0, len(word))


def _remnant(word: str, fallback: str) -> str:
    """What is left of a cue token for the scope column once its affix is cut off."""
    _form, (start, end) = affixer(word)
    if start == 0 and end != len(word):
        return word[end:]
    if start != 0 and end == len(word):
        return word[:start]
    return fallback


def system_cue_form(word: str) -> str:
    return word if word in NO_AFFIX else affixer(word)[0]


def negation_rows(sent_id: str, forms: list[str], negations: list[dict]) -> list[str]:
    """*SEM lines of one sentence from token-level negations {"cue": ids, "scope": ids} (1-based)."""
    lines = []
    for i, w in enumerate(forms, 1):
        cols = ["_", sent_id, str(i - 1), w, "_", "_", "_"]
        if not negations:
            cols.append("***")
        for neg in negations:
            in_cue = i in neg["cue"]
            cols.append(system_cue_form(w) if in_cue else "_")
            if i in neg["scope"] and not in_cue:
                cols.append(w)
            elif in_cue:
                cols.append("_" if w in NO_AFFIX else _remnant(w, "_"))
            else:
                cols.append("_")
            cols.append("_")
        lines.append("\t".join(cols))
    return lines


def _cue_index(spans: list[tuple[int, int]], b: int, e: int) -> int:
    for i, (s, t) in enumerate(spans):
        if s == b or t == e:
            return i
    raise ValueError(f"cue span {b}:{e} matches no token")


def _scope_parts(words: list[str], spans: list[tuple[int, int]], text: str, b: int, e: int):
    for i, (s, t) in enumerate(spans):
        if s >= b and t <= e:
            yield i, words[i]
        elif s <= b <= t:
            yield i, text[b:t]  # the scope starts inside the token (after a prefix cue)
        elif b <= s <= e:
            yield i, text[s:e]  # the scope ends inside the token (before a suffix cue)


def gold_rows(sentence: Sentence) -> list[str]:
    """*SEM lines of one NoReC_neg sentence, as the NoReC_neg gold files were made."""
    words = sentence.tokens
    spans = token_offsets(sentence.text)
    negs = []
    for neg in sentence.negations:
        cue_map: dict[int, str] = {}
        for b, e, string in neg.cue:
            i = _cue_index(spans, b, e)
            parts = string.split()
            if len(parts) > 1:
                for k, part in enumerate(parts):
                    cue_map[i + k] = part
            else:
                cue_map[i] = string
        idx, strs = [], []
        for b, e, _string in neg.scope:
            for i, s in _scope_parts(words, spans, sentence.text, b, e):
                idx.append(i)
                strs.append(s)
        negs.append((cue_map, idx, strs))
    lines = []
    for i, tok in enumerate(words):
        cols = ["_", sentence.sent_id, str(i), tok, "_", "_", "_"]
        if not negs:
            cols.append("***")
        for cue_map, idx, strs in negs:
            cols.append(cue_map.get(i, "_"))
            if i in idx:
                if i in cue_map and tok not in NO_AFFIX:
                    form, (start, end) = affixer(tok)
                    if start == 0 and end != len(tok):
                        form = tok[end:]
                    elif start != 0 and end == len(tok):
                        form = tok[:start]
                    cols.append(form)
                else:
                    cols.append(strs[idx.index(i)])
            else:
                cols.append("_")
            cols.append("_")
        lines.append("\t".join(cols))
    return lines


def write_starsem(path: str | Path, blocks: list[list[str]]) -> None:
    """One block of lines per sentence, each block followed by a blank line."""
    with atomic_open(path) as fh:
        for block in blocks:
            fh.write("\n".join(block) + "\n\n")
