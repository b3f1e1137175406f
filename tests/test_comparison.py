"""Visible tests that got wrong values show expected and got side by side, differences marked;
hidden tests never do (their values would give away their inputs)."""

from __future__ import annotations

import json
from pathlib import Path

import html5lib  # type: ignore[import-untyped]
import jsonschema
import numpy as np
import pytest

from grader import paths
from grader.engine import GradeOptions, grade_submissions
from grader.judge.checks import COMPARE_ENTRIES, comparison
from grader.outputs import OutputOptions, write_all
from grader.submissions import discover

# relu that lets small negatives through: right shape, wrong values at -1 only... and more.
OFF_BY_ONE = """
import numpy as np

def relu(z):
    return np.where(z > -2, np.abs(z) * (z > 0) + (z == -1), 0)
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("class")
    sub = base / "frank"
    sub.mkdir()
    stub = (paths.exercises_dir() / "activations" / "activations.py").read_text(encoding="utf-8")
    (sub / "activations.py").write_text(stub + OFF_BY_ONE, encoding="utf-8")
    found = discover(base, tmp_path_factory.mktemp("unpack"))
    run = grade_submissions(found, GradeOptions(jobs=1, exercises=("activations",), plots=False))
    out = tmp_path_factory.mktemp("out")
    write_all(run, out, OutputOptions())
    return out


def _test(out: Path, name: str) -> dict[str, object]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    schema = json.loads((paths.course_root() / "schemas" / "results.schema.json").read_text())
    jsonschema.validate(data, schema)
    (sub,) = data["submissions"]
    return next(t for t in sub["tests"] if t["id"].endswith(name))


def test_visible_failure_records_entries_with_the_difference_marked(graded: Path) -> None:
    test = _test(graded, "::test_relu_lesson_example")
    assert test["outcome"] == "failed"
    assert test["comparison"] == [
        {"index": "0", "expected": "0", "got": "0", "differs": False},
        {"index": "1", "expected": "0", "got": "1", "differs": True},
        {"index": "2", "expected": "0", "got": "0", "differs": False},
        {"index": "3", "expected": "1", "got": "1", "differs": False},
        {"index": "4", "expected": "3", "got": "3", "differs": False},
    ]
    assert test["comparison_note"] == ""


def test_hidden_failure_records_no_values(graded: Path) -> None:
    test = _test(graded, "test_activations::test_relu_lesson_examples")
    assert test["outcome"] == "failed" and test["visibility"] == "hidden"
    assert "comparison" not in test


def test_page_shows_the_table_with_the_differing_row_marked_in_words(graded: Path) -> None:
    page = (graded / "frank" / "feedback.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    doc = html5lib.parse(page, namespaceHTMLElements=False)
    (table,) = doc.findall(".//table[@class='compare']")
    rows = [["".join(cell.itertext()).strip() for cell in row] for row in table.iter("tr")]
    assert rows[0] == ["index", "expected", "got", "verdict"]
    assert rows[2] == ["1", "0", "1", "≠ differs"]
    assert rows[1] == ["0", "0", "0", "= ok"]
    marked = [row for row in table.iter("tr") if row.get("class") == "differs"]
    assert len(marked) == 1


def test_large_arrays_show_a_window_around_the_first_difference() -> None:
    expected = np.zeros(100)
    got = expected.copy()
    got[[40, 70]] = 1.0
    entries, note = comparison(expected, got, ~np.isclose(got, expected))
    assert len(entries) == COMPARE_ENTRIES
    assert [e["index"] for e in entries][:3] == ["38", "39", "40"]
    assert [e["differs"] for e in entries][:3] == [False, False, True]
    assert note == f"entries 38 to {38 + COMPARE_ENTRIES - 1} (in reading order) of 100; 2 differ in all"


def test_two_dimensional_entries_are_indexed_by_row_and_column() -> None:
    expected = np.zeros((2, 3))
    got = expected.copy()
    got[1, 2] = 5.0
    entries, note = comparison(expected, got, ~np.isclose(got, expected))
    assert entries[-1] == {"index": "(1, 2)", "expected": "0", "got": "5", "differs": True}
    assert note == ""


def test_two_students_with_the_same_message_keep_their_own_comparison() -> None:
    from grader.records import Entry, GradeRun, SubmissionResult, TestOutcome
    from grader.reports.results_json import dumps_results

    def result(sid: str, got: str) -> SubmissionResult:
        test = TestOutcome(id="t::relu", exercise="activations", function="relu", name="relu",
                           outcome="failed", score=0.0, max_score=1.0, visibility="visible",
                           message="relu(z) is wrong at index 0",
                           comparison=(Entry("0", "0.0", got, True),))
        return SubmissionResult(id=sid, status="graded", score=0.0, max_score=1.0, tests=(test,))

    run = GradeRun(grader_version="x", seed=1, isolation="none",
                   submissions=(result("a", "-1.0"), result("b", "-2.0")))
    data = json.loads(dumps_results(run))
    assert [s["tests"][0]["comparison"][0]["got"] for s in data["submissions"]] == ["-1.0", "-2.0"]
