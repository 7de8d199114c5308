"""The parts of a rendered job script the per-cluster tests compare: #SBATCH lines, the software and
collective-library blocks, the $NORLM command and the launch line."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from norlm.config import load_config
from norlm.hpc.jobs import Job
from norlm.hpc.render import render

from tests.conftest import REPO

NORBERT1 = REPO / "configs" / "norbert1.toml"


@dataclass(frozen=True)
class Rendered:
    job: Job
    path: Path
    text: str

    @property
    def sbatch(self) -> list[str]:
        return [line.split(" ", 1)[1] for line in self.text.splitlines() if line.startswith("#SBATCH ")]

    @property
    def comments(self) -> list[str]:
        """The header comments between the #SBATCH lines and the prologue."""
        head = self.text.split("\n\n", 1)[0].splitlines()
        return [line for line in head if line.startswith("# ")]

    def between(self, start: str, end: str) -> list[str]:
        after = self.text.split(start, 1)[1]
        return after.split(end, 1)[0].splitlines()

    @property
    def software(self) -> list[str]:
        return self.between("# --- software ---\n", f'\ncd "{REPO}"')

    @property
    def collective_env(self) -> list[str]:
        return self.between("# --- collective libraries (the site's documented settings) ---\n", "\nNORLM=")

    @property
    def norlm(self) -> str:
        [line] = [x for x in self.text.splitlines() if x.startswith("NORLM=")]
        return line

    @property
    def launch(self) -> str:
        [line] = [x for x in self.text.splitlines() if x.startswith("srun ")]
        return line


def render_norbert1(cluster: str, account: str, *overrides: str, phase: int = 1, route: str = "") -> Rendered:
    """bert-train of configs/norbert1.toml rendered for `cluster` (NORLM_WORK must point somewhere private)."""
    cfg = load_config(NORBERT1, list(overrides))
    [(job, path)] = render(cfg, cluster, account, "bert-train", phase, [], route=route)
    return Rendered(job, path, path.read_text(encoding="utf-8"))


def bert_train_words(phase: int, engine: str, per_rank: int, accumulation: int) -> str:
    """The `$NORLM bert-train ...` part of the launch line, with the overrides the job fixes."""
    return (f'$NORLM bert-train --config "{NORBERT1}" --phase {phase} run.engine={engine} '
            f"bert.phase{phase}.train_batch_size={per_rank} bert.phase{phase}.accumulation_steps={accumulation}")
