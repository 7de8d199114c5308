"""README's job time limits come from the cluster profiles (rendered here), so they cannot drift."""
from __future__ import annotations

import re

from norlm.hpc.profile import load_profile, parse_time
from tests.conftest import REPO

CLUSTERS = ("olivia", "roihu", "lumi", "saga")  # the columns of README's cluster table


def human(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    return f"{days} days" if not rest else f"{seconds // 3600} hours"


def limits_row(partitions: list[str]) -> str:
    """The table row of each cluster's job time limit on the partition its norbert1 bert-train uses."""
    cells = [human(parse_time(load_profile(c).partition(p).max_time)) for c, p in zip(CLUSTERS, partitions)]
    return "| job time limit of that partition | " + " | ".join(cells) + " |"


def test_readme_time_limits_follow_the_profiles():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    bert_row = next(line for line in text.splitlines() if line.startswith("| norbert1 `bert-train` |"))
    partitions = [re.search(r"`([^`]+)`", cell).group(1) for cell in bert_row.strip("|").split("|")[1:]]
    assert partitions == ["accel", "gpularge", "standard-g", "accel"]
    row = limits_row(partitions)
    assert row in text.splitlines()
    saga_days = parse_time(load_profile("saga").partition("accel").max_time) // 86400
    assert saga_days == 14
    assert f"the `accel` partition's {saga_days}-day limit" in text and f"within Saga's {saga_days}-day limit" in text
    assert "7-day limit" not in text and "7-day jobs" not in text
