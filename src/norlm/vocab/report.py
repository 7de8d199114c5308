"""The vocabulary quality report: our vocabulary and the published NorBERT one, side by side."""
from __future__ import annotations

from pathlib import Path

from norlm.vocab.fertility import Treebank, fertility
from norlm.vocab.quality import analyse
from norlm.vocab.tokenizer import build_tokenizer
from norlm.vocab.vocab_file import read_vocab

# the example sentence of the NorBERT paper (Kutuzov et al., 2021)
PAPER_SENTENCE = ("Denne gjengen håper at de sammen skal bidra til å gi kvinnefotballen i Kristiansand "
                  "et lenge etterlengtet løft")


def describe_vocab(vocab_txt: str | Path, treebanks: list[Treebank]) -> dict:
    """Checks, fertility per treebank (and all together), and the paper sentence, for one vocab file."""
    quality = analyse(read_vocab(vocab_txt))
    tok = build_tokenizer(vocab_txt)
    per_bank = {tb.name: fertility(tok, tb.sentences) for tb in treebanks}
    if len(treebanks) > 1:
        per_bank["all"] = fertility(tok, [s for tb in treebanks for s in tb.sentences])
    sentence = tok.encode(PAPER_SENTENCE, add_special_tokens=False)
    return {
        "checks": quality.to_json(),
        "fertility": per_bank,
        "paper_sentence": {"text": PAPER_SENTENCE, "pieces": sentence.tokens, "ids": sentence.ids},
    }


def _row(label: str, values: list[str]) -> str:
    return f"{label:<32}" + "".join(f"{v:>22}" for v in values)


def _trained_on(corpus: dict) -> str:
    """One line saying which text the vocabulary was trained on (all lines, or which sample)."""
    t = corpus.get("trained_on")
    if not t or t["lines"] == t["of_lines"]:
        return f"trained on all {corpus['lines']:,} lines of {len(corpus['shards'])} shard(s)"
    return (f"trained on a uniform random sample of {t['lines']:,} of {t['of_lines']:,} lines across "
            f"{len(corpus['shards'])} shard(s) (vocab.max_lines, seed {t['seed']})")


def format_report(report: dict) -> str:
    """Printed table: one column per vocabulary."""
    names = list(report["vocabularies"])
    vocabs = [report["vocabularies"][n] for n in names]
    lines = [_trained_on(report["corpus"]), _row("", names)]
    checks = [v["checks"] for v in vocabs]
    for label, key in [("lines (ids)", "lines"), ("distinct entries", "distinct_entries")]:
        lines.append(_row(label, [f"{c[key]:,}" for c in checks]))
    for kind in ("special", "unused", "word-initial", "continuation", "empty"):
        lines.append(_row(f"  {kind}", [f"{c['kinds'].get(kind, 0):,}" for c in checks]))
    lines.append(_row("duplicated tokens", [f"{c['duplicate_tokens']:,}" for c in checks]))
    lines.append(_row("empty lines", [f"{len(c['empty_lines']):,}" for c in checks]))
    lines.append(_row("unreachable entries", [f"{c['unreachable_total']:,}" for c in checks]))
    lines.append(_row("usable learned entries", [f"{c['usable_learned_entries']:,}" for c in checks]))
    banks = list(vocabs[0]["fertility"])
    for bank in banks:
        stats = [v["fertility"][bank] for v in vocabs]
        lines.append(_row(f"UD test {bank}: pieces/word", [f"{s['fertility']:.3f}" for s in stats]))
        lines.append(_row(f"UD test {bank}: words split", [f"{100 * s['split_word_share']:.1f}%" for s in stats]))
        lines.append(_row(f"UD test {bank}: [UNK] words", [f"{100 * s['unk_word_rate']:.3f}%" for s in stats]))
    lines.append("")
    lines.append(f"most frequent [UNK] words in UD test text ({banks[-1]}):")
    for name, vocab in zip(names, vocabs):
        top = vocab["fertility"][banks[-1]]["unk_words_top"]
        lines.append(f"  {name}: " + (", ".join(f"{w} ({n})" for w, n in top) if top else "none"))
    lines.append(f"paper sentence: {vocabs[0]['paper_sentence']['text']}")
    for name, vocab in zip(names, vocabs):
        lines.append(f"  {name}: {' '.join(vocab['paper_sentence']['pieces'])}")
    return "\n".join(lines)
