"""The stage registry: every `norlm` command, and for pipeline stages what they read and write last.

One table feeds the CLI (`norlm <stage>`), the job submission graph (`afterok` dependencies), the
completion files that job scripts check, and the test that holds the Makefile's rules to it.
A *pipeline stage* has a completion file (written last, so its existence means "done") and the
stages it reads from; a *tool* (info, inspect, score, ...) has neither.  Phased stages (BERT data
and training) exist once per phase.  Standard library only (login nodes render jobs from it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from norlm.layout import Layout

Node = tuple[str, "int | None"]  # (stage, phase); phase is None for unphased stages
PHASES = (1, 2)


def _none(phase):
    return ()


@dataclass(frozen=True)
class Stage:
    name: str
    module: str
    help: str
    done: Callable[[Layout, "int | None"], Path] | None = None  # completion file; None for a tool
    needs: Callable[["int | None"], tuple[Node, ...]] = field(default=_none)  # upstream (stage, phase)
    phased: bool = False

    @property
    def pipeline(self) -> bool:
        return self.done is not None

    def nodes(self) -> list[Node]:
        return [(self.name, p) for p in PHASES] if self.phased else [(self.name, None)]

    def done_relative(self, phase: int | None = None) -> str:
        """The completion file relative to the work folder (what job scripts and Make check)."""
        if self.done is None:
            raise ValueError(f"{self.name} is a tool, not a pipeline stage: it has no completion file")
        return self.done(Layout(Path("")), phase).as_posix()


def _bert_train_needs(phase):
    return (("bert-data", phase),) + ((("bert-train", 1),) if phase == 2 else ())


# in pipeline order; tools sit next to the stage whose files they read
STAGES: tuple[Stage, ...] = (
    Stage("info", "norlm.info", "print Python/TensorFlow/Horovod/MPI versions, engine, CPUs, GPUs and the config"),
    Stage("data", "norlm.bundled_data", "verify the bundled data against data/manifest.tsv, or fetch full-scale data"),
    Stage("corpus", "norlm.corpus.stage", "raw Wikipedia / NAK / plain / NDT text -> clean, deduplicated, "
          "segmented shards", done=lambda lay, p: lay.corpus_stats),
    Stage("vocab", "norlm.vocab.stage", "train the cased WordPiece vocabulary and write its quality report",
          done=lambda lay, p: lay.vocab_txt, needs=lambda p: (("corpus", None),)),
    Stage("vocab-check", "norlm.vocab.check", "check any WordPiece vocab.txt for duplicates, empty and "
          "unreachable entries"),
    Stage("bert-data", "norlm.bert.data.stage", "corpus shards -> NVIDIA-schema pretraining TFRecords (phase 1 or 2)",
          done=lambda lay, p: lay.bert_manifest(p), needs=lambda p: (("vocab", None),), phased=True),
    Stage("bert-data-inspect", "norlm.bert.data.inspect", "count and decode the instances of a pretraining "
          "TFRecord file"),
    Stage("bert-train", "norlm.bert.train.stage", "pretrain BERT (MLM+NSP, LAMB) with exact resume; phase 1 or 2",
          done=lambda lay, p: lay.bert_final(p), needs=_bert_train_needs, phased=True),
    Stage("bert-export", "norlm.bert.interop.export", "checkpoint -> Hugging Face folder and TF1 name-based "
          "checkpoint", done=lambda lay, p: lay.hf_weights, needs=lambda p: (("bert-train", 2),)),
    Stage("bert-import", "norlm.bert.interop.import_hf", "local Hugging Face BERT folder -> our checkpoint "
          "(for evaluation)"),
    Stage("bert-attention", "norlm.evaluate.attention", "how much each head attends to the previous / next token "
          "(bag-of-words check)"),
    Stage("elmo-vocab", "norlm.elmo.vocab", "word vocabulary and token counts for ELMo",
          done=lambda lay, p: lay.elmo_vocab, needs=lambda p: (("corpus", None),)),
    Stage("elmo-train", "norlm.elmo.train", "train the bidirectional ELMo language model with exact resume",
          done=lambda lay, p: lay.elmo_final, needs=lambda p: (("elmo-vocab", None),)),
    Stage("elmo-export", "norlm.elmo.export", "checkpoint -> bilm-tf model.hdf5 + options.json + vocab.txt "
          "(+ zip, TF1 ckpt)", done=lambda lay, p: lay.elmo_hdf5, needs=lambda p: (("elmo-train", None),)),
    Stage("elmo-embed", "norlm.elmo.embed", "sentences -> contextual ELMo vectors with our own inference code"),
    Stage("evaluate", "norlm.evaluate.stage", "POS, NER and sentiment evaluation of BERT / ELMo / baseline models",
          done=lambda lay, p: lay.eval_report, needs=lambda p: (("bert-export", None), ("elmo-export", None))),
    Stage("score", "norlm.evaluate.graph.score_cli", "score graph-task predictions: *SEM 2012 negation scorer, "
          "NorLM-era and SemEval-2022 sentiment-graph scorers"),
    Stage("plot-log", "norlm.plots", "loss curves from DLLogger files (paper Figure 1 style)"),
    Stage("report", "norlm.demo_report", "the demo report (markdown + HTML) from every stage's outputs",
          done=lambda lay, p: lay.report_md, needs=lambda p: (("evaluate", None),)),
    Stage("sbatch", "norlm.hpc.render", "render a Slurm batch script for a stage and cluster profile"),
    Stage("plan", "norlm.hpc.plan", "expected nodes, GPUs, wall time, GPU-hours and billing units per stage of a "
          "config on a cluster"),
)

BY_NAME: dict[str, Stage] = {s.name: s for s in STAGES}


def stage(name: str) -> Stage:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown stage '{name}' (known: {', '.join(BY_NAME)})") from None


def pipeline_stages() -> list[Stage]:
    return [s for s in STAGES if s.pipeline]


def needs(name: str, phase: int | None = None) -> tuple[Node, ...]:
    """The (stage, phase) nodes that stage `name` (in `phase`) reads from."""
    return tuple(stage(name).needs(phase))


def completion_file(layout: Layout, name: str, phase: int | None = None) -> Path:
    st = stage(name)
    if st.done is None:
        raise ValueError(f"{name} is a tool, not a pipeline stage")
    return st.done(layout, phase)
