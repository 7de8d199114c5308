"""What passes from bert-data to bert-train: the TFRecord feature schema and the manifest, as types.

bert-data writes `PretrainingManifest` (as ``manifest.json``, last, next to the TFRecords);
bert-train, `bert-data-inspect` and the test fixtures read it back with `read_manifest`.  Training
takes its sequence length, predictions per sequence and vocabulary (size and sha256) from here, so
the data stage's values are written once and read, never re-derived from the config.

Each entry of `files` has the file's name, instances, bytes and sha256 (format 3), so bert-train
can find a truncated or damaged file at start-up (`check_files`) instead of weeks into a run;
manifests of format 2 (no bytes/sha256) stay readable and are checked by name only.

`FEATURES` is the one description of a record (NVIDIA's schema, bert-recipe §1.6): the numpy
writer, the tf.data parser and the input checks all derive their views from it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from norlm.errors import StageError

FORMAT_VERSION = 3  # 2: vocab.size/sha256 of vocab.txt as top-level typed fields; 3: files[].bytes/sha256


@dataclass(frozen=True)
class Feature:
    dtype: str  # "int64" or "float32"
    length: str  # "seq" (max_seq_length), "pred" (max_predictions_per_seq) or "1"

    def size(self, seq: int, pred: int) -> int:
        return {"seq": seq, "pred": pred, "1": 1}[self.length]


FEATURES: dict[str, Feature] = {
    "input_ids": Feature("int64", "seq"),
    "input_mask": Feature("int64", "seq"),
    "segment_ids": Feature("int64", "seq"),
    "masked_lm_positions": Feature("int64", "pred"),
    "masked_lm_ids": Feature("int64", "pred"),
    "masked_lm_weights": Feature("float32", "pred"),
    "next_sentence_labels": Feature("int64", "1"),  # 0 = IsNext, 1 = random next
}
TOKEN_ID_FEATURES = ("input_ids", "masked_lm_ids")


def feature_lengths(seq: int, pred: int) -> dict[str, int]:
    return {name: f.size(seq, pred) for name, f in FEATURES.items()}


@dataclass(frozen=True)
class VocabRecord:
    """The vocabulary the records were tokenised with."""

    path: str  # tokenizer.json or vocab.txt given to bert-data
    sha256: str  # of that file
    size: int  # number of ids (= lines of vocab.txt)
    vocab_txt: str | None = None  # the vocab.txt the model embeds (next to the tokenizer)
    vocab_txt_sha256: str | None = None


@dataclass(frozen=True)
class PretrainingManifest:
    phase: int
    instances: int
    max_seq_length: int
    max_predictions_per_seq: int
    vocab: VocabRecord
    files: tuple[dict, ...] = ()
    dupe_factor: int = 0
    masked_lm_prob: float = 0.0
    short_seq_prob: float = 0.0
    whole_word_mask: bool = False
    files_per_shard: int = 1
    seed: int = 0
    seed_derivation: str = ""
    inputs: tuple[dict, ...] = ()
    stats: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    format: int = FORMAT_VERSION
    next_sentence_label: str = "0 = IsNext (actual next), 1 = random next"
    features: dict = field(default_factory=lambda: {n: asdict(f) for n, f in FEATURES.items()})

    @property
    def vocab_size(self) -> int:
        return self.vocab.size

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"], data["inputs"] = list(self.files), list(self.inputs)
        return data

    def write(self, path: Path) -> None:
        from norlm.files import write_json

        write_json(path, self.to_json_dict())


def manifest_from_dict(data: dict, source: str | Path = "manifest.json") -> PretrainingManifest:
    """Typed manifest from its JSON; a missing or malformed field is a StageError naming the file."""
    if not isinstance(data, dict):
        raise StageError(f"{source}: not a bert-data manifest (expected a JSON object)")
    known = {f.name for f in fields(PretrainingManifest)}
    required = ("phase", "instances", "max_seq_length", "max_predictions_per_seq", "vocab")
    missing = [k for k in required if k not in data]
    if missing:
        raise StageError(f"{source}: not a bert-data manifest: missing {', '.join(missing)} "
                         "(rerun `norlm bert-data` to rewrite it)")
    vocab = data["vocab"]
    if not isinstance(vocab, dict) or not {"path", "sha256", "size"} <= set(vocab):
        raise StageError(f"{source}: 'vocab' must have path, sha256 and size (rerun `norlm bert-data`)")
    for key in ("phase", "instances", "max_seq_length", "max_predictions_per_seq"):
        if isinstance(data[key], bool) or not isinstance(data[key], int):
            raise StageError(f"{source}: '{key}' must be an integer, got {data[key]!r}")
    vocab_fields = {f.name for f in fields(VocabRecord)}
    kwargs = {k: v for k, v in data.items() if k in known}
    kwargs["vocab"] = VocabRecord(**{k: v for k, v in vocab.items() if k in vocab_fields})
    kwargs["files"] = tuple(data.get("files", ()))
    kwargs["inputs"] = tuple(data.get("inputs", ()))
    return PretrainingManifest(**kwargs)


def read_manifest(path: str | Path) -> PretrainingManifest:
    path = Path(path)
    if not path.is_file():
        raise StageError(f"{path}: no bert-data manifest (run `norlm bert-data` for this phase first)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StageError(f"{path}: unreadable manifest ({exc})") from None
    return manifest_from_dict(data, path)


def vocab_record(vocab_txt: str | Path, size: int | None = None) -> VocabRecord:
    """The record of a plain vocab.txt (what test fixtures and foreign data describe themselves with)."""
    from norlm.files import sha256_file
    from norlm.vocab.vocab_file import vocab_size

    sha = sha256_file(vocab_txt)
    return VocabRecord(path=str(vocab_txt), sha256=sha, size=vocab_size(vocab_txt) if size is None else size,
                       vocab_txt=str(vocab_txt), vocab_txt_sha256=sha)


def describe_file(path: str | Path, instances: int) -> dict:
    """A manifest `files` entry: name, instances, and the size and sha256 bert-train checks."""
    from norlm.files import sha256_file

    path = Path(path)
    return {"name": path.name, "instances": int(instances), "bytes": path.stat().st_size,
            "sha256": sha256_file(path)}


def complete_entries(folder: str | Path, entries) -> tuple[dict, ...]:
    """`files` entries with bytes and sha256 filled in where a shard record of an older run lacks them."""
    out = []
    for entry in entries:
        if "bytes" not in entry or "sha256" not in entry:
            entry = {**entry, **describe_file(Path(folder) / entry["name"], entry.get("instances", 0))}
        out.append(entry)
    return tuple(out)


def file_problems(manifest: PretrainingManifest, folder: str | Path, files: list[str], full: bool = False) -> list[str]:
    """What is wrong with the TFRecord files against the manifest: missing, extra, wrong size (or sha256).

    The default check is one stat per file (a truncated copy or a write cut by a full quota changes
    the size); `full` also hashes every byte (about 2 s per GB per core), for damage that keeps the size.
    """
    from norlm.files import recorded_file_problem

    listed = {e["name"]: e for e in manifest.files}
    if not listed:
        return []  # records described without a file list (foreign data, old test fixtures)
    folder = Path(folder)
    problems = [f"{folder / name}: listed in the manifest but missing" for name in sorted(listed)
                if not (folder / name).is_file()]
    problems += [f"{p}: not listed in the manifest (a stale or foreign file)" for p in files
                 if Path(p).name not in listed]
    for name, entry in sorted(listed.items()):
        path = folder / name
        if not path.is_file() or "bytes" not in entry:
            continue
        problem = recorded_file_problem(path, entry, "the manifest", full)
        if problem:
            problems.append(problem)
    return problems


def files_intact(folder: str | Path, names: list[str], entries) -> bool:
    """Every named file exists with the size its shard record gives (where the record has one)."""
    sizes = {e["name"]: e.get("bytes") for e in entries}
    for name in names:
        path = Path(folder) / name
        if not path.is_file() or sizes.get(name) not in (None, path.stat().st_size):
            return False
    return True
