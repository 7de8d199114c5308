"""The Makefile's stage rules, the job graph and the completion files all come from one registry."""
from __future__ import annotations

import re
from pathlib import Path

from norlm import stages
from norlm.layout import Layout

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def makefile_rules() -> dict[str, set[str]]:
    """target -> prerequisites of every `$(WORK)/...` rule, with `%` rules expanded for both phases."""
    rules: dict[str, set[str]] = {}
    for line in MAKEFILE.read_text().splitlines():
        match = re.match(r"^\$\(WORK\)/(\S+):(.*)$", line)
        if not match:
            continue
        target, deps = match.groups()
        deps = deps.split("|")[0].split()
        files = {d.removeprefix("$(WORK)/") for d in deps if d.startswith("$(WORK)/")}
        for phase in ("1", "2") if "%" in target else ("",):
            rules[target.replace("%", phase)] = {d.replace("$*", phase).replace("%", phase) for d in files}
    return rules


def registry_rules() -> dict[str, set[str]]:
    rules = {}
    for st in stages.pipeline_stages():
        for name, phase in st.nodes():
            target = st.done_relative(phase)
            rules[target] = {stages.stage(n).done_relative(p) for n, p in stages.needs(name, phase)}
    return rules


def test_makefile_rules_match_the_registry():
    assert makefile_rules() == registry_rules()


def test_phony_targets_name_the_registry_completion_files():
    text = MAKEFILE.read_text()
    for st in stages.pipeline_stages():
        phase = "$(PHASE)" if st.phased else None
        done = st.done_relative(1).replace("phase1", "phase$(PHASE)") if st.phased else st.done_relative(phase)
        assert re.search(rf"^{re.escape(st.name)}: \$\(WORK\)/{re.escape(done)}\b", text, re.M), st.name


def test_graph_facts():
    assert stages.needs("bert-train", 2) == (("bert-data", 2), ("bert-train", 1))
    assert stages.needs("bert-train", 1) == (("bert-data", 1),)
    assert stages.completion_file(Layout(Path("/w")), "bert-data", 2) == Path("/w/bert/tfrecords/phase2/manifest.json")
    assert stages.stage("evaluate").done_relative() == "eval/report.md"
    assert not stages.stage("info").pipeline


def test_cli_table_is_the_registry():
    from norlm.cli import STAGES

    assert [name for name, _, _ in STAGES] == [s.name for s in stages.STAGES]
