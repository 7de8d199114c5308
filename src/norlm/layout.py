"""The work folder's layout: every path that one stage writes and another reads, in one place.

Stages talk only through files under ``WORK``; this module is the one owner of their names, so a
writer and its readers (and the Makefile test, the job scripts and the report) cannot drift apart.
Standard library only: job rendering uses it on login nodes.

    lay = Layout(work_dir(cfg))
    lay.corpus_shards()          # WORK/corpus/*.txt.gz
    lay.bert_manifest(1)         # WORK/bert/tfrecords/phase1/manifest.json
    lay.eval_result("pos", "bert")

`repo_path` is the one rule for a relative path given in a config: relative to the current folder
if it exists there, else relative to the repository.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def repo_path(path: str | Path) -> Path:
    """A config path: as given when absolute or present under the cwd, else under the repository."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    candidate = REPO_ROOT / path
    return candidate if candidate.exists() else path


def repo_glob_bases(pattern: str) -> list[Path]:
    """Where a relative glob pattern of a config is looked for: the cwd, then the repository."""
    path = Path(pattern)
    return [path] if path.is_absolute() else [path, REPO_ROOT / path]


def _phase(phase: int) -> str:
    if phase not in (1, 2):
        raise ValueError(f"BERT phase must be 1 or 2, not {phase!r}")
    return f"phase{phase}"


@dataclass(frozen=True)
class Layout:
    """Paths under one work folder (nothing is created; stages make their own folders)."""

    work: Path

    def __post_init__(self):
        object.__setattr__(self, "work", Path(self.work))

    # ---- corpus
    @property
    def corpus_dir(self) -> Path:
        return self.work / "corpus"

    @property
    def corpus_stats(self) -> Path:
        return self.corpus_dir / "stats.json"

    def corpus_shards(self, corpus_dir: Path | None = None) -> list[Path]:
        return sorted(Path(corpus_dir or self.corpus_dir).glob("*.txt.gz"))

    # ---- vocab
    @property
    def vocab_dir(self) -> Path:
        return self.work / "vocab"

    @property
    def vocab_txt(self) -> Path:
        return self.vocab_dir / "vocab.txt"

    @property
    def tokenizer_json(self) -> Path:
        return self.vocab_dir / "tokenizer.json"

    @property
    def vocab_report(self) -> Path:
        return self.vocab_dir / "report.json"

    # ---- BERT
    @property
    def bert_dir(self) -> Path:
        return self.work / "bert"

    def bert_records(self, phase: int) -> Path:
        return self.bert_dir / "tfrecords" / _phase(phase)

    def bert_manifest(self, phase: int) -> Path:
        return self.bert_records(phase) / "manifest.json"

    def bert_train(self, phase: int) -> Path:
        return self.bert_dir / _phase(phase)

    def bert_final(self, phase: int) -> Path:
        return self.bert_train(phase) / "final.json"

    def bert_dllog(self, phase: int) -> Path:
        return self.bert_train(phase) / "dllog.json"

    @property
    def bert_export(self) -> Path:
        return self.bert_dir / "export"

    @property
    def hf_dir(self) -> Path:
        return self.bert_export / "hf"

    @property
    def hf_weights(self) -> Path:
        return self.hf_dir / "model.safetensors"

    @property
    def tf1_dir(self) -> Path:
        return self.bert_export / "tf1"

    def bert_import(self, name: str) -> Path:
        return self.bert_dir / "import" / name

    # ---- ELMo
    @property
    def elmo_dir(self) -> Path:
        return self.work / "elmo"

    @property
    def elmo_vocab(self) -> Path:
        return self.elmo_dir / "vocab.txt"

    @property
    def elmo_counts(self) -> Path:
        return self.elmo_dir / "counts.json"

    @property
    def elmo_train(self) -> Path:
        return self.elmo_dir / "train"

    @property
    def elmo_final(self) -> Path:
        return self.elmo_train / "final.json"

    @property
    def elmo_export(self) -> Path:
        return self.elmo_dir / "export"

    @property
    def elmo_hdf5(self) -> Path:
        return self.elmo_export / "model.hdf5"

    @property
    def elmo_random_dir(self) -> Path:
        return self.elmo_dir / "random"

    @property
    def elmo_random_hdf5(self) -> Path:
        return self.elmo_random_dir / "model.hdf5"

    # ---- evaluation and report
    @property
    def eval_dir(self) -> Path:
        return self.work / "eval"

    def eval_task(self, task: str) -> Path:
        return self.eval_dir / task

    def eval_result(self, task: str, model: str) -> Path:
        return self.eval_task(task) / f"{model}.json"

    @property
    def eval_report(self) -> Path:
        return self.eval_dir / "report.md"

    @property
    def eval_signals(self) -> Path:
        return self.eval_dir / "signals.json"

    @property
    def report_dir(self) -> Path:
        return self.work / "demo"

    # ---- batch jobs
    @property
    def slurm_dir(self) -> Path:
        """Rendered batch scripts and the submitted job ids (norlm sbatch)."""
        return self.work / "slurm"

    @property
    def slurm_logs(self) -> Path:
        return self.slurm_dir / "logs"

    @property
    def report_md(self) -> Path:
        return self.report_dir / "report.md"

    @property
    def timings(self) -> Path:
        return self.work / "timings.tsv"


def layout_of(cfg) -> Layout:
    """The layout of a loaded config's work folder (NORLM_WORK, run.work_dir or work/<run.name>)."""
    from norlm.config import work_dir

    return Layout(work_dir(cfg))
