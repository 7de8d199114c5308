"""What each cluster would reject (or queue forever) is refused at rendering, before a script is
written: another site's account format, an unknown partition, more GPUs per node than its nodes have,
and a time over the partition's limit (bert-train phase 1 of configs/norbert1.toml)."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pytest

from norlm.config import load_config
from norlm.hpc.profile import RenderError
from norlm.hpc.render import render

from tests.hpc.rendered import NORBERT1


@dataclass(frozen=True)
class Target:
    cluster: str
    account: str
    wrong_account: str  # another site's format
    pattern: str
    partition: str
    gpus_per_node: int
    time_limit: str
    over_time: str
    extra: tuple[str, ...] = ()


TARGETS = [
    Target("saga", "nn9851k", "project_2001234", "^nn[0-9]{4}k$", "accel", 4, "14-00:00:00", "14-00:00:01"),
    Target("saga", "nn9851k", "nn98510k", "^nn[0-9]{4}k$", "a100", 4, "14-00:00:00", "15-00:00:00",
           ("hpc.bert_train.partition=a100",)),
    Target("olivia", "nn9851k", "project_465000157", "^nn[0-9]{4}k$", "accel", 4, "7-00:00:00", "8-00:00:00"),
    Target("roihu", "project_2001234", "nn9851k", "^project_2[0-9]{6}$", "gpularge", 4, "1-12:00:00", "2-00:00:00"),
    Target("lumi", "project_465000157", "project_2001234", "^project_465[0-9]{6}$", "standard-g", 8, "2-00:00:00",
           "2-00:00:01"),
]
IDS = [f"{t.cluster}-{t.partition}" for t in TARGETS]


def _render(t: Target, *overrides: str, account: str = "", cfg=None):
    cfg = cfg or load_config(NORBERT1, [*t.extra, *overrides])
    return render(cfg, t.cluster, account or t.account, "bert-train", 1, [])


def _nothing_written(work) -> bool:
    return not (work / "slurm" / "bert-train-p1.sbatch").exists()


@pytest.mark.parametrize("t", TARGETS, ids=IDS)
def test_the_valid_job_renders(work, t):
    [(job, path)] = _render(t)
    assert (job.partition, job.gpus_per_node, job.time) == (t.partition, t.gpus_per_node, t.time_limit)
    assert path.exists()


@pytest.mark.parametrize("t", TARGETS, ids=IDS)
def test_wrong_account_format(work, t):
    expected = (f"account '{t.wrong_account}' does not look like a {t.cluster} project (expected {t.pattern}, "
                f"e.g. {t.account})")
    with pytest.raises(RenderError, match=re.escape(expected)):
        _render(t, account=t.wrong_account)
    assert _nothing_written(work)


@pytest.mark.parametrize("t", TARGETS, ids=IDS)
def test_unknown_partition(work, t):
    with pytest.raises(RenderError, match=re.escape(f"unknown partition 'gpu-huge' on {t.cluster} (known: ")):
        _render(t, "hpc.bert_train.partition=gpu-huge")
    assert _nothing_written(work)


@pytest.mark.parametrize("t", TARGETS, ids=IDS)
def test_too_many_gpus_per_node(work, t):
    cfg = load_config(NORBERT1, list(t.extra))
    # an explicit per-node shape instead of `gpus = 16`, one GPU more than the nodes have
    shape = dataclasses.replace(cfg.hpc.bert_train, gpus=None, partition=t.partition, nodes=2,
                                tasks_per_node=t.gpus_per_node + 1, gpus_per_node=t.gpus_per_node + 1)
    cfg = dataclasses.replace(cfg, hpc=dataclasses.replace(cfg.hpc, bert_train=shape))
    expected = (f"bert-train-p1 on {t.cluster} partition '{t.partition}': {t.gpus_per_node + 1} GPUs per node "
                f"requested, but its nodes have {t.gpus_per_node}")
    with pytest.raises(RenderError, match=re.escape(expected)):
        _render(t, cfg=cfg)
    assert _nothing_written(work)


@pytest.mark.parametrize("t", TARGETS, ids=IDS)
def test_time_over_the_partition_limit(work, t):
    expected = (f"bert-train-p1 on {t.cluster} partition '{t.partition}': time {t.over_time} is over the "
                f"partition's limit {t.time_limit}")
    with pytest.raises(RenderError, match=re.escape(expected)):
        _render(t, f'hpc.bert_train.time="{t.over_time}"')
    assert _nothing_written(work)
