"""The per-task, per-model result file `WORK/eval/<task>/<model>.json`: one entry per language with
every seed's scores, the mean ± sd, timings, data sizes and the protocol used.

A language entry carries a fingerprint of everything that determines it (model files, data
settings, protocol, seeds), so a rerun skips what is already done and redoes what changed.
"""
from __future__ import annotations

import hashlib
import json
import statistics
import time
from pathlib import Path

from norlm.files import read_json, versions, write_json


def fingerprint(*parts) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def mean_sd(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return float(statistics.fmean(values)), float(statistics.stdev(values)) if len(values) > 1 else 0.0


def summarise(runs: list[dict]) -> dict:
    """Mean and sample sd over seeds of test score, dev score and seconds per run."""
    test_mean, test_sd = mean_sd([r["test"]["score"] for r in runs])
    dev_mean, dev_sd = mean_sd([r["dev"]["score"] for r in runs])
    time_mean, time_sd = mean_sd([r["seconds"] for r in runs])
    return {"test_mean": test_mean, "test_sd": test_sd, "dev_mean": dev_mean, "dev_sd": dev_sd,
            "seconds_mean": time_mean, "seconds_sd": time_sd, "seeds": [r["seed"] for r in runs]}


def model_files_digest(folder: Path) -> dict[str, str]:
    """sha256 of the model's files (so a retrained or different model invalidates old results)."""
    from norlm.files import sha256_file

    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def load_entry(path: Path, lang: str, fp: str) -> dict | None:
    """The stored entry for `lang` if its fingerprint matches (i.e. it is up to date)."""
    if not path.is_file():
        return None
    try:
        entry = read_json(path).get("results", {}).get(lang)
    except (json.JSONDecodeError, AttributeError):
        return None
    return entry if entry and entry.get("fingerprint") == fp else None


def write_result(path: Path, header: dict, lang: str, entry: dict) -> dict:
    """Add or replace one language entry, keeping the others (atomic write)."""
    doc = {}
    if path.is_file():
        try:
            doc = read_json(path)
        except json.JSONDecodeError:
            doc = {}
    results = doc.get("results", {}) if isinstance(doc.get("results"), dict) else {}
    results[lang] = entry
    doc.update(header)
    doc["results"] = results
    doc["versions"] = versions()
    doc["written"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_json(path, doc)
    return doc
