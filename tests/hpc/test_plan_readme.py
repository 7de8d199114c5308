"""README's cluster section shows the plan's totals as the code computes them (generated, not typed)."""
from __future__ import annotations

from norlm.hpc.plan_readme import BEGIN, END, readme_table, write_readme

from tests.conftest import REPO


def test_readme_totals_are_generated():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert block == readme_table(), "README totals are stale: run `python -m norlm.hpc.plan_readme --write`"
    for row in ("| saga | 16 x P100 |", "| olivia | 2 x GH200 |", "| lumi | 16 x MI250X-GCD |"):
        assert row in block


def test_write_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# top\n\n{BEGIN}| stale |\n{END}\n\nrest\n", encoding="utf-8")
    write_readme(readme)
    assert readme.read_text(encoding="utf-8") == f"# top\n\n{BEGIN}{readme_table()}{END}\n\nrest\n"
