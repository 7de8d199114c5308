"""Per-source statistics: merged from unit parts and shard writers into stats.json and a table."""
from __future__ import annotations

from collections import Counter

from norlm.corpus.inputs import MAX_EXAMPLES

COUNT_KEYS = ("documents", "sentences", "words", "chars", "duplicates_within", "duplicates_across",
              "near_duplicate_documents")


def _merge(dicts) -> dict:
    total = Counter()
    for d in dicts:
        total.update(d)
    return dict(sorted(total.items()))


def source_summary(source, unit_stats: list[dict], written: dict, missing: list[str]) -> dict:
    """One source's entry of stats.json (counts after dedup; drops and bad input by reason)."""
    bad = _merge(s["bad_input"] for s in unit_stats)
    messages = [m for s in unit_stats for m in s["messages"]]
    for pattern in missing:
        bad["no-such-input"] = bad.get("no-such-input", 0) + 1
        messages.append(f"{pattern}: no-such-input: no file matches")
    dropped = _merge(s["dropped"] for s in unit_stats)
    if written.get("empty_after_dedup"):
        dropped["empty-after-dedup"] = written["empty_after_dedup"]
    return {
        "kind": source.kind,
        "lang": source.lang,
        "units": len(unit_stats),
        **{k: written[k] for k in COUNT_KEYS},
        "before_dedup": {k: sum(s[k] for s in unit_stats) for k in ("documents", "sentences", "words", "chars")},
        "dropped": dropped,
        "bad_input": bad,
        "info": _merge(s.get("info", {}) for s in unit_stats),
        "messages": messages[: 5 * MAX_EXAMPLES],
        "shards": written["shards"],
    }


def print_table(summary: dict) -> None:
    """The per-source table printed at the end of `norlm corpus`."""
    head = ("source", "docs", "sentences", "words", "chars", "dup-within", "dup-across", "near-dup", "dropped",
            "bad-input", "shards")
    rows = []
    for name, s in sorted(summary["sources"].items()):
        rows.append((name, s["documents"], s["sentences"], s["words"], s["chars"], s["duplicates_within"],
                     s["duplicates_across"], s["near_duplicate_documents"], sum(s["dropped"].values()),
                     sum(s["bad_input"].values()), len(s["shards"])))
    t = summary["total"]
    rows.append(("TOTAL", t["documents"], t["sentences"], t["words"], t["chars"], t["duplicates_within"],
                 t["duplicates_across"], t["near_duplicate_documents"],
                 sum(sum(s["dropped"].values()) for s in summary["sources"].values()),
                 sum(sum(s["bad_input"].values()) for s in summary["sources"].values()),
                 sum(len(s["shards"]) for s in summary["sources"].values())))
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

    def fmt(row) -> str:
        return "  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths)))

    print(fmt(head))
    for r in rows:
        print(fmt(r))
    for name, s in sorted(summary["sources"].items()):
        reasons = {**s["dropped"], **{f"bad:{k}": v for k, v in s["bad_input"].items()}}
        if reasons:
            print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in reasons.items()))
    print(f"segmenter: {summary['segmenter']}", flush=True)
