"""The *SEM 2012 CD-SCO negation scorer (`eval.cd-sco.pl` v2.2), re-implemented.

The paper's Table 6 numbers come from that Perl script, so its conventions are kept: a gold and a
system negation are paired when they share a cue token (first unpaired system negation, gold
order); cue and full-negation false positives come only from unpaired system negations; scope
tokens are counted for every pair even when the cue is partly wrong; words of the form `abc.` are
compared as `abc` (ASCII word characters only, as Perl on bytes); tokens whose POS column lacks a
word character are left out of scopes (the NoReC files have `_` there, so nothing is left out);
P and R are rounded to two decimals before F1 is computed from them.  The "Scopes(no cue match)"
row shows the cue-match tp in its tp column, as the Perl script printed it.  Events (the third
column) never occur in NoReC_neg; they are scored like scopes are.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from norlm.conll import ConllError, Unreadable, file_lines
from norlm.evaluate.readers import DataError

_ABBREV = re.compile(r"^(\w+)\.", re.ASCII)
_WORD = re.compile(r"\w", re.ASCII)


@dataclass
class _Neg:
    cue_tok: list[int] = field(default_factory=list)
    cue_words: list[str] = field(default_factory=list)
    scope_tok: list[int] = field(default_factory=list)
    scope_words: list[str] = field(default_factory=list)
    event_tok: list[int] = field(default_factory=list)
    event_words: list[str] = field(default_factory=list)


def read_starsem(path: str | Path) -> list[list[tuple[int, list[str]]]]:
    """Sentences as lists of (line number, columns); an unreadable line or a bad column count is an error."""
    sents, cur = [], []
    try:
        for lineno, line in file_lines(path):
            if isinstance(line, Unreadable):
                raise DataError(f"{path}:{lineno}: {line.reason}")
            line = line.strip()
            if not line:
                if cur:
                    sents.append(cur)
                    cur = []
                continue
            cols = line.split("\t")
            if len(cols) < 8 or (len(cols) > 8 and (len(cols) - 7) % 3 != 0):
                raise DataError(f"{path}:{lineno}: {len(cols)} columns; expected 8 (***) or 7 + 3 per negation")
            if not cols[2].isdigit():
                raise DataError(f"{path}:{lineno}: token index {cols[2]!r} is not a number")
            if cur and cols[1] != cur[0][1][1]:
                raise DataError(f"{path}:{lineno}: sentence id {cols[1]!r} inside sentence {cur[0][1][1]!r} "
                                "(a blank line missing?)")
            cur.append((lineno, cols))
    except ConllError as exc:
        raise DataError(str(exc)) from None
    if cur:
        sents.append(cur)
    if not sents:
        raise DataError(f"{path}: no sentence (an empty file?)")
    return sents


def pair_by_id(gold: list, system: list, gold_path, system_path) -> list[tuple]:
    """(gold, system) sentences paired by sentence id (repeated ids in order), in gold order; missing
    or extra ids are an error that names them."""
    pool: dict[str, list] = defaultdict(list)
    for sent in system:
        pool[sent[0][1][1]].append(sent)
    pairs, missing = [], []
    for sent in gold:
        bucket = pool.get(sent[0][1][1])
        if bucket:
            pairs.append((sent, bucket.pop(0)))
        else:
            missing.append(sent[0][1][1])
    extra = [sid for sid, left in pool.items() for _ in left]
    if missing or extra:
        raise DataError(f"{system_path}: sentence ids differ from {gold_path}: " + id_difference(missing, extra))
    return pairs


def id_difference(missing: list[str], extra: list[str], shown: int = 5) -> str:
    """`3 missing (a, b, c); 1 extra (d)`, at most `shown` ids of each."""
    def part(ids, what):
        more = f", ... {len(ids) - shown} more" if len(ids) > shown else ""
        return f"{len(ids)} {what} ({', '.join(map(str, ids[:shown]))}{more})" if ids else ""
    return "; ".join(p for p in (part(missing, "missing"), part(extra, "extra")) if p)


def _negations(rows, pos: list[str], path, counts: dict, side: str) -> list[_Neg]:
    if rows[0][1][7] == "***":
        return []
    width = len(rows[0][1])
    n_negs = (width - 7) // 3
    negs = [_Neg() for _ in range(n_negs)]
    for k, (lineno, cols) in enumerate(rows):
        if len(cols) != width:
            raise DataError(f"{path}:{lineno}: {len(cols)} columns, but the sentence's first line has {width}")
        for z in range(n_negs):
            cue, scope, event = cols[7 + 3 * z: 10 + 3 * z]
            neg = negs[z]
            if cue != "_":
                neg.cue_tok.append(k)
                neg.cue_words.append(cue)
            if scope != "_" and _WORD.search(pos[k]) and pos[k] not in ("-LRB-", "-RRB-"):
                m = _ABBREV.match(scope)
                neg.scope_tok.append(k)
                neg.scope_words.append(m.group(1) if m else scope)
                counts[f"scope_tokens_{side}"] += 1
            if event != "_":
                neg.event_tok.append(k)
                neg.event_words.append(event)
    for z, neg in enumerate(negs):
        if not neg.cue_tok and side == "p":
            raise DataError(f"{path}:{rows[0][0]}: negation {z + 1} of this sentence has no cue token")
        for name, toks in (("cues", neg.cue_tok), ("scopes", neg.scope_tok), ("negated", neg.event_tok)):
            if toks:
                counts[f"{name}_{side}"] += 1
    return negs


def _pair(gold: list[_Neg], system: list[_Neg], attr: str) -> list[tuple[int, int]]:
    """Pairs (gold i, system z): for each gold negation in order, the first unpaired system one
    sharing a token of `attr`."""
    used_g, used_p, pairs = set(), set(), []
    for i, g in enumerate(gold):
        for z, p in enumerate(system):
            if z in used_p or i in used_g:
                continue
            if set(getattr(g, attr)) & set(getattr(p, attr)):
                used_g.add(i)
                used_p.add(z)
                pairs.append((i, z))
                break
    return pairs


def _same(g: _Neg, p: _Neg, what: str) -> bool:
    return getattr(g, what + "_tok") == getattr(p, what + "_tok") and getattr(g, what + "_words") == getattr(p, what + "_words")


def _score_sentence(gold: list[_Neg], system: list[_Neg], c: dict) -> bool:
    """Update the counts `c` for one sentence; True if a negation in it is not fully right."""
    error = False
    pairs = _pair(gold, system, "cue_tok")
    pg, pp = {i for i, _ in pairs}, {z for _, z in pairs}
    for i, z in pairs:
        g, p = gold[i], system[z]
        sys_scope = dict(zip(p.scope_tok, p.scope_words))
        gold_scope = dict(zip(g.scope_tok, g.scope_words))
        for t, w in zip(g.scope_tok, g.scope_words):
            c["tp_scope_tokens" if sys_scope.get(t, None) == w else "fn_scope_tokens"] += 1
        for t, w in zip(p.scope_tok, p.scope_words):
            if gold_scope.get(t, None) != w:
                c["fp_scope_tokens"] += 1
        if _same(g, p, "cue") and _same(g, p, "scope") and _same(g, p, "event"):
            c["tp_full"] += 1
        else:
            c["fn_full"] += 1
            error = True
        if _same(g, p, "cue"):
            c["tp_cues"] += 1
            for what, key in (("scope", "scopes"), ("event", "negated")):
                if not getattr(g, what + "_tok") and getattr(p, what + "_tok"):
                    c[f"fp_{key}"] += 1
                elif getattr(g, what + "_tok"):
                    c[f"tp_{key}" if _same(g, p, what) else f"fn_{key}"] += 1
        else:
            c["fn_cues"] += 1
            c["fn_scopes"] += bool(g.scope_tok)
            c["fn_negated"] += bool(g.event_tok)
        # scope "apart": the same pairing, the cue need not be right
        if not g.scope_tok and p.scope_tok:
            c["fp_scopes_apart"] += 1
        elif g.scope_tok:
            c["tp_scopes_apart" if _same(g, p, "scope") else "fn_scopes_apart"] += 1
    for i, g in enumerate(gold):
        if i in pg:
            continue
        error = True
        c["fn_cues"] += bool(g.cue_tok)
        c["fn_scopes"] += bool(g.scope_tok)
        c["fn_scopes_apart"] += bool(g.scope_tok)
        c["fn_scope_tokens"] += len(g.scope_tok)
        c["fn_negated"] += bool(g.event_tok)
        c["fn_full"] += 1
    for z, p in enumerate(system):
        if z in pp:
            continue
        error = True
        c["fp_cues"] += bool(p.cue_tok)
        c["fp_scopes"] += bool(p.scope_tok)
        c["fp_scopes_apart"] += bool(p.scope_tok)
        c["fp_scope_tokens"] += len(p.scope_tok)
        c["fp_negated"] += bool(p.event_tok)
        c["fp_full"] += 1
    # events scored apart from the cue: paired on a shared event token
    epairs = _pair(gold, system, "event_tok")
    for i, z in epairs:
        c["tp_negated_apart" if _same(gold[i], system[z], "event") else "fn_negated_apart"] += 1
    eg, ep = {i for i, _ in epairs}, {z for _, z in epairs}
    c["fn_negated_apart"] += sum(1 for i, g in enumerate(gold) if i not in eg and g.event_tok)
    c["fp_negated_apart"] += sum(1 for z, p in enumerate(system) if z not in ep and p.event_tok)
    return error


def _prf(tp: int, fp: int, fn: int, system: int | None = None) -> tuple[float, float, float]:
    """P, R rounded to 2 decimals, then F1 from the rounded values (B variant: P = tp / system)."""
    if system is None:
        p = 100.0 * tp / (tp + fp) if tp + fp else 0.0
    else:
        p = 100.0 * tp / system if system else 0.0
    r = 100.0 * tp / (tp + fn) if tp + fn else 0.0
    p, r = float(f"{p:.2f}"), float(f"{r:.2f}")
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, float(f"{f:.2f}")


ROWS = (  # key, label, gold count, system count, tp, fp, fn, B variant
    ("cues", "Cues:", "cues", "tp_cues", "fp_cues", "fn_cues", False),
    ("scopes_cue_match", "Scopes(cue match):", "scopes", "tp_scopes", "fp_scopes", "fn_scopes", False),
    ("scopes_no_cue_match", "Scopes(no cue match):", "scopes", "tp_scopes_apart", "fp_scopes_apart", "fn_scopes_apart", False),
    ("scope_tokens", "Scope tokens(no cue match):", "scope_tokens", "tp_scope_tokens", "fp_scope_tokens", "fn_scope_tokens", False),
    ("negated", "Negated(no cue match):", "negated", "tp_negated_apart", "fp_negated_apart", "fn_negated_apart", False),
    ("full_negation", "Full negation:", "cues", "tp_full", "fp_full", "fn_full", False),
    ("cues_b", "Cues B:", "cues", "tp_cues", "fp_cues", "fn_cues", True),
    ("scopes_b_cue_match", "Scopes B (cue match):", "scopes", "tp_scopes", "fp_scopes", "fn_scopes", True),
    ("scopes_b_no_cue_match", "Scopes B (no cue match):", "scopes", "tp_scopes_apart", "fp_scopes_apart", "fn_scopes_apart", True),
    ("negated_b", "Negated B (no cue match):", "negated", "tp_negated_apart", "fp_negated_apart", "fn_negated_apart", True),
    ("full_negation_b", "Full negation B:", "cues", "tp_full", "fp_full", "fn_full", True),
)


def score_starsem(gold_path: str | Path, system_path: str | Path) -> dict:
    """Score a system *SEM file against the gold one; a dict with one entry per table row."""
    gold, system = read_starsem(gold_path), read_starsem(system_path)
    c: dict[str, int] = defaultdict(int)
    n_neg_sents = n_err = n_err_neg = 0
    for gs, ss in pair_by_id(gold, system, gold_path, system_path):
        if len(gs) != len(ss):
            raise DataError(f"{system_path}:{ss[0][0]}: sentence has {len(ss)} tokens, gold ({gold_path}:{gs[0][0]}) "
                            f"has {len(gs)}")
        for (gl, gc), (sl, sc) in zip(gs, ss):
            if gc[:4] != sc[:4]:
                raise DataError(f"{system_path}:{sl}: first four columns {sc[:4]} differ from {gold_path}:{gl} {gc[:4]}")
        pos = [cols[5] for _, cols in gs]
        gnegs = _negations(gs, pos, gold_path, c, "g")
        snegs = _negations(ss, pos, system_path, c, "p")
        error = _score_sentence(gnegs, snegs, c) if (gnegs or snegs) else False
        n_neg_sents += bool(gnegs)
        n_err += error
        n_err_neg += error and bool(gnegs)
    out = {}
    for key, _label, count, tp, fp, fn, b_variant in ROWS:
        p, r, f = _prf(c[tp], c[fp], c[fn], c[count + "_p"] if b_variant else None)
        out[key] = {"gold": c[count + "_g"], "system": c[count + "_p"], "tp": c[tp], "fp": c[fp], "fn": c[fn],
                    "precision": p, "recall": r, "f1": f}
    # the Perl script prints the cue-match tp in the no-cue-match row
    out["scopes_no_cue_match"]["tp"] = c["tp_scopes"]
    out["scopes_b_no_cue_match"]["tp"] = c["tp_scopes"]
    n = len(gold)
    out["sentences"] = {"sentences": n, "negation_sentences": n_neg_sents, "negation_sentences_with_errors": n_err_neg,
                        "correct_sentences_pct": float(f"{100 - 100.0 * n_err / n:.2f}") if n else 0.0,
                        "correct_negation_sentences_pct":
                            float(f"{100 - 100.0 * n_err_neg / n_neg_sents:.2f}") if n_neg_sents else 0.0}
    return out


def format_table(scores: dict) -> str:
    """The scorer's table layout."""
    head = "---------------------------+------+--------+------+------+------+---------------+------------+---------"
    rule = "----------------------------+------+--------+------+------+------+---------------+------------+---------"
    lines = [head, "                            | gold | system | tp   | fp   | fn   | precision (%) | recall (%) | F1  (%) ",
             rule]
    for k, (key, label, *_rest) in enumerate(ROWS):
        if k == 6:
            lines.append(head)
        s = scores[key]
        lines.append(f"{label} {s['gold']:>{33 - len(label)}d} | {s['system']:6d} | {s['tp']:4d} | {s['fp']:4d} | "
                     f"{s['fn']:4d} | {s['precision']:13.2f} | {s['recall']:10.2f} | {s['f1']:7.2f}")
    st = scores["sentences"]
    lines += [head, f" # sentences: {st['sentences']}", f" # negation sentences: {st['negation_sentences']}",
              f" # negation sentences with errors: {st['negation_sentences_with_errors']}",
              f" % correct sentences: {st['correct_sentences_pct']:.2f}",
              f" % correct negation sentences: {st['correct_negation_sentences_pct']:.2f}", "-" * 104]
    return "\n".join(lines) + "\n"
