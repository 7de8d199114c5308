"""README's support matrix is the one rendered from the last runs' results file, and that file has a
row for every route and every TensorFlow line of the issue, each with the tests the row stands for."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.conftest import REPO
from tests.routes.conftest import load_script

matrix = load_script("support_matrix")
ROUTES = {"lumi", "olivia", "roihu", "saga-easybuild"}
TF_LINES = {"2.16", "2.17", "2.18", "2.19", "2.20", "2.21", "2.22rc0"}
EVERY_ROW = {"smoke chain", "BERT tf-distribute 2 = 1", "ELMo tf-distribute 2 = 1", "export parity"}


def test_readme_table_is_the_rendered_results():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split(matrix.BEGIN, 1)[1].split(matrix.END, 1)[0].strip()
    assert table == matrix.render(matrix.read_rows())


def test_every_route_and_tf_line_has_a_row_from_a_run():
    rows = matrix.read_rows()
    assert {r["name"] for r in rows if r["kind"] == "route"} == ROUTES
    assert {r["name"] for r in rows if r["kind"] == "tf"} == TF_LINES
    for row in rows:
        groups = dict(item.rsplit("=", 1) for item in row["groups"].split(";"))
        assert EVERY_ROW <= set(groups), (row["name"], groups)
        assert all(int(g.split("/")[1]) > 0 for g in groups.values())
        if row["kind"] == "tf":
            assert row["tensorflow"].startswith(row["name"].replace("rc0", ".0rc0")), row
        if row["engine"].startswith("horovod"):
            assert "Horovod 2 ranks = 1" in groups and "route checks" in groups, row


def test_junit_cases_fall_into_their_groups(tmp_path):
    junit = tmp_path / "j.xml"
    suite = ET.Element("testsuite")
    cases = [("tests.test_smoke_chain", "test_corpus_and_vocab", None),
             ("tests.multiworker.test_elmo_train", "test_tf_distribute_two_workers_equal_one_process_with_double_batch",
              "failure"),
             ("tests.elmo.test_simple_elmo", "test_simple_elmo_equals_elmo_embed", None),
             ("tests.multiworker.test_bert_train", "test_two_ranks_mpirun_equal_one_process_with_double_batch", None),
             ("tests.bert.test_model", "test_x[a]", "skipped"), ("tests.bert.test_model", "test_y", "error")]
    for classname, name, outcome in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=name)
        if outcome:
            ET.SubElement(case, outcome)
    ET.ElementTree(suite).write(junit)
    assert matrix.tally(junit) == {"smoke chain": [1, 1], "ELMo tf-distribute 2 = 1": [0, 1], "export parity": [1, 1],
                                   "Horovod 2 ranks = 1": [1, 1], "other": [0, 1]}
    row = {"kind": "tf", "name": "2.19", "python": "3.12.1", "tensorflow": "2.19.1", "numpy": "2.1.3",
           "keras": "3.15.1", "engine": "tf-distribute", "date": "2026-12-07", "seconds": "9",
           "groups": "ELMo tf-distribute 2 = 1=0/1;smoke chain=1/1"}
    line = matrix.render([row]).splitlines()[2]
    assert line.startswith("| TF 2.19 | 3.12.1 | 2.19.1 | 2.1.3 | 3.15.1 | tf-distribute | pass 1/1 | – | FAIL 0/1 |")
    assert line.endswith("| FAIL 1/2 | 2026-12-07 (9 s) |")
