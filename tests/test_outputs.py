"""Machine-readable outputs: results.json, grades.csv, Gradescope JSON, JUnit XML, step summary."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from grader.atomic import safe_child, write_bytes_atomic, write_text_atomic
from grader.errors import UsageError
from grader.course import exercises
from grader.records import Curve, GradeRun, SubmissionResult
from grader.records import TestOutcome as Outcome  # aliased so pytest does not try to collect it
from grader.reports.gradebook import assignment_header, import_warnings, load_roster, percent
from grader.reports.gradebook import round_percent, write_grades_csv
from grader.reports.gradescope import to_gradescope, write_gradescope
from grader.reports.junit import write_junit
from grader.reports.results_json import (
    dict_to_run,
    read_results_json,
    run_to_dict,
    write_results_json,
)
from grader.reports.step_summary import github_summary_markdown, md_cell

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_ID = "=cmd|' /C calc'!A0"
SECRET = "SECRET hidden input z=[710.0, -1e308]"
NASTY = 'Expected "0.5", got \'0,5\'\nsecond line, with commas; =SUM(A1) ünïcødé ✓ 🙂'


def _test(
    tid: str, exercise: str, outcome: str, score: float, **kw: object
) -> Outcome:
    """A TestOutcome with sensible defaults."""
    fields: dict[str, object] = {
        "id": f"test_{exercise}::{tid}",
        "exercise": exercise,
        "function": "relu",
        "name": f"{tid} works",
        "outcome": outcome,
        "score": score,
        "max_score": 1.0,
        "visibility": "visible",
    }
    fields.update(kw)
    return Outcome(**fields)  # type: ignore[arg-type]


def _alice() -> SubmissionResult:
    """A graded submission with every outcome, hostile messages and finite curves."""
    tests = (
        _test("zero", "activations", "passed", 1.0, duration=0.012),
        _test("negative", "activations", "failed", 0.0, message=NASTY,
              hints=("ReLU keeps positives, zeros negatives.", "=HYPERLINK(\"x\")"),
              pitfall="relu_abs", misconception="You took the absolute value.",
              advisories=("overflow encountered in exp",), duration=0.5),
        _test("slope", "leaky_relu", "error", 0.0, function="leaky_relu",
              message="NameError: name 'np' is not defined", duration=0.1),
        _test("huge", "leaky_relu", "timeout", 0.0, function=None, visibility="hidden",
              message=SECRET, misconception="Loops over elements are too slow.",
              hints=("Use np.where.",), duration=2.0),
        _test("hidden_ok", "leaky_relu", "passed", 2.0, max_score=2.0, visibility="hidden",
              duration=0.001),
    )
    curves = (
        Curve("activations", "relu", "line", (-1.0, 0.0, 1.0), (0.0, 0.0, 1.0), (1.0, 0.0, 1.0)),
        Curve("softmax_debug", "softmax", "bars", (0.0, 1.0), (0.25, 0.75), None, note="crashed"),
    )
    return SubmissionResult("alice", "graded", 3.0, 6.0, tests, problems=("skipped notes.txt",),
                            curves=curves)


def _hostile() -> SubmissionResult:
    """A submission whose id is a spreadsheet formula, with a failing visible test."""
    tests = (
        _test("zero", "activations", "passed", 1.0),
        _test("negative", "activations", "failed", 0.0, message="a|b\nc"),
        _test("slope", "leaky_relu", "passed", 1.0),
        _test("huge", "leaky_relu", "passed", 1.0, visibility="hidden"),
        _test("hidden_ok", "leaky_relu", "passed", 2.0, max_score=2.0, visibility="hidden"),
    )
    return SubmissionResult(HOSTILE_ID, "graded", 5.0, 6.0, tests)


def _broken() -> SubmissionResult:
    """A submission that could not be graded at all."""
    return SubmissionResult("zed", "error", 0.0, 6.0, (), error='corrupt zip: "bad, CRC"')


def _run(*subs: SubmissionResult) -> GradeRun:
    """A run over subs, sorted by id as the judge delivers them."""
    chosen = subs or (_hostile(), _alice(), _broken())
    return GradeRun("0.1.0", 1234, "uid+netns+rlimits", tuple(sorted(chosen, key=lambda s: s.id)),
                    warnings=("weaker isolation: no user namespaces",))


def _nonfinite_run() -> GradeRun:
    """The default run plus a curve whose student values are nan and inf."""
    bad = Curve("activations", "sigmoid", "line", (0.0, 1.0, 2.0), (0.5, 0.73, 0.88),
                (math.nan, math.inf, -math.inf), note="overflow")
    alice = _alice()
    return _run(_hostile(), replace(alice, curves=alice.curves + (bad,)), _broken())


def _schema(name: str) -> dict[str, object]:
    """A JSON schema from the repository's schemas folder."""
    schema: dict[str, object] = json.loads((ROOT / "schemas" / name).read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _read_csv(path: Path) -> list[dict[str, str]]:
    """A written CSV as dicts, read the way a spreadsheet importer would."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# -- results.json -------------------------------------------------------------------------------


def test_results_json_validates_and_round_trips(tmp_path: Path) -> None:
    run = _run()
    path = write_results_json(run, tmp_path)
    data = json.loads(path.read_text("utf-8"))
    jsonschema.validate(data, _schema("results.schema.json"))
    assert dict_to_run(run_to_dict(run)) == run
    assert read_results_json(path) == run
    assert list(data) == ["grader_version", "seed", "isolation", "warnings", "submissions"]
    assert [s["id"] for s in data["submissions"]] == [HOSTILE_ID, "alice", "zed"]


def test_nonfinite_curve_values_become_null(tmp_path: Path) -> None:
    text = write_results_json(_nonfinite_run(), tmp_path).read_text("utf-8")
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    jsonschema.validate(data, _schema("results.schema.json"))
    curve = data["submissions"][1]["curves"][-1]
    assert curve["student"] == [None, None, None]
    back = dict_to_run(data).submissions[1].curves[-1]
    assert back.student is not None and all(math.isnan(v) for v in back.student)


def test_results_json_is_deterministic_without_timings(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    run = _nonfinite_run()
    slower = replace(run, submissions=tuple(
        replace(s, tests=tuple(replace(t, duration=t.duration * 3 + 0.7) for t in s.tests))
        for s in run.submissions
    ))
    a = write_results_json(run, first, include_timings=False).read_bytes()
    b = write_results_json(slower, second, include_timings=False).read_bytes()
    assert a == b
    assert all(t["duration"] == 0 for s in json.loads(a)["submissions"] for t in s["tests"])


def test_durations_rounded_to_milliseconds() -> None:
    run = _run(replace(_broken(), status="graded", error=None,
                       tests=(_test("t", "activations", "passed", 1.0, duration=0.123456),)))
    data = run_to_dict(run)
    assert data["submissions"][0]["tests"][0]["duration"] == 0.123  # type: ignore[index]


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("seed"),
    lambda d: d["submissions"][0].update(status="weird"),
    lambda d: d["submissions"][1]["tests"][0].update(outcome="skipped"),
    lambda d: d["submissions"][1]["tests"][0].update(score="1"),
    lambda d: d["submissions"][1].update(tests={}),
])
def test_dict_to_run_rejects_malformed_data(mutate: object) -> None:
    data = json.loads(json.dumps(run_to_dict(_run())))
    mutate(data)  # type: ignore[operator]
    with pytest.raises(ValueError, match="results.json"):
        dict_to_run(data)


# -- grades.csv ---------------------------------------------------------------------------------


def test_plain_grades_columns_and_values(tmp_path: Path) -> None:
    path = write_grades_csv(_run(), tmp_path, exercises=exercises())
    rows = _read_csv(path)
    with open(path, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    # Exercises without any test in the run (scaling, concepts, ...) are left out.
    assert header == ["id", "score", "max_score", "percent", "activations", "leaky_relu"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["alice"] == {"id": "alice", "score": "3", "max_score": "6", "percent": "50",
                              "activations": "1", "leaky_relu": "2"}
    assert by_id["'" + HOSTILE_ID]["percent"] == "83.3"
    assert by_id["zed"]["score"] == "0"


def _write_roster(tmp_path: Path, text: str) -> Path:
    """A roster file with the given content."""
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


ROSTER = (
    "\ufeffid,Name,Email,sis_id,lms_id,Section,notes\n"
    "alice,\"Liddell, Alice\",alice@example.edu,S001,101,A,ignored\n"
    "carol,=HYPERLINK(\"http://evil\"),carol@example.edu,S003,103,B,\n"
    "zed,Zed,+zed@example.edu,S026,126,A,\n"
)


def test_roster_grades_list_missing_students(tmp_path: Path) -> None:
    roster = load_roster(_write_roster(tmp_path, ROSTER))
    assert roster.columns == ("name", "email", "sis_id", "lms_id", "section")
    rows = _read_csv(write_grades_csv(_run(), tmp_path, exercises=exercises(), roster=roster))
    assert list(rows[0]) == ["id", "name", "email", "sis_id", "lms_id", "section", "status",
                             "score", "max_score", "percent", "activations", "leaky_relu"]
    assert [(r["id"], r["status"]) for r in rows] == [
        ("alice", "graded"), ("carol", "missing"), ("zed", "error"),
        ("'" + HOSTILE_ID, "not_in_roster"),
    ]
    carol = rows[1]
    assert (carol["score"], carol["max_score"], carol["percent"]) == ("0", "6", "0")
    assert carol["name"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[0]["name"] == "Liddell, Alice"
    assert rows[2]["email"] == "'+zed@example.edu"


def test_roster_errors_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no 'id' column"):
        load_roster(_write_roster(tmp_path, "name,email\nAlice,a@x\n"))
    with pytest.raises(UsageError, match="line 3"):
        load_roster(_write_roster(tmp_path, "id,name\nalice,Alice\nbob,Bob,extra\n"))
    with pytest.raises(UsageError, match="line 3.*empty"):
        load_roster(_write_roster(tmp_path, "id,name\nalice,Alice\n,Nobody\n"))
    with pytest.raises(UsageError, match="line 3.*already on line 2"):
        load_roster(_write_roster(tmp_path, "id,name\nalice,Alice\nalice,Again\n"))
    with pytest.raises(UsageError, match="cannot read roster"):
        load_roster(tmp_path / "absent.csv")
    assert load_roster(_write_roster(tmp_path, "id\n")).entries == ()


def test_canvas_layout(tmp_path: Path) -> None:
    roster = load_roster(_write_roster(tmp_path, ROSTER))
    path = write_grades_csv(_run(), tmp_path, exercises=exercises(), roster=roster,
                            layout="canvas", assignment="Activations lesson (1234)")
    assert path.name == "grades-canvas.csv"
    rows = _read_csv(path)
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                             "Activations lesson (1234)"]
    assert rows[0] == {"Student": "Liddell, Alice", "ID": "101", "SIS User ID": "S001",
                       "SIS Login ID": "", "Section": "A", "Activations lesson (1234)": "3"}
    assert rows[1]["Student"].startswith("'=") and rows[1]["Activations lesson (1234)"] == "0"
    assert rows[3]["SIS User ID"] == "'" + HOSTILE_ID


def test_moodle_layout(tmp_path: Path) -> None:
    roster = load_roster(_write_roster(tmp_path, ROSTER))
    path = write_grades_csv(_run(), tmp_path, exercises=exercises(), roster=roster,
                            layout="moodle", assignment="Activations")
    rows = _read_csv(path)
    assert list(rows[0]) == ["Email address", "ID number", "Activations"]
    assert rows[0] == {"Email address": "alice@example.edu", "ID number": "S001",
                       "Activations": "3"}
    # The submission the roster does not list has nothing Moodle could match: left out, named.
    assert [r["ID number"] for r in rows] == ["S001", "S003", "S026"]
    assert import_warnings(_run(), roster, "moodle", "Activations") == [
        f"grades-moodle.csv leaves out 1 student(s) Moodle could not match (no email or ID "
        f"number): {HOSTILE_ID} (not on the roster); give each an email or sis_id in the roster "
        "to import them"]
    no_roster = _read_csv(write_grades_csv(_run(), tmp_path, exercises=exercises(),
                                           layout="moodle"))
    assert [r["ID number"] for r in no_roster] == ["'" + HOSTILE_ID, "alice", "zed"]
    assert import_warnings(_run(), None, "moodle", "Activations") == []


def test_moodle_warning_names_ten_and_counts_the_rest(tmp_path: Path) -> None:
    many = [replace(_alice(), id=f"s{i:02d}") for i in range(12)]
    roster = load_roster(_write_roster(tmp_path, "id,name,email\nalice,Alice,\n"))
    [warning] = import_warnings(_run(*many), roster, "moodle", "A")
    assert warning.startswith("grades-moodle.csv leaves out 13 student(s) Moodle could not "
                              "match (no email or ID number): alice (no email or sis_id in "
                              "the roster), s00 (not on the roster), s01 (not on the roster)")
    assert "s08 (not on the roster) and 3 more; give each" in warning
    path = write_grades_csv(_run(*many), tmp_path, exercises=exercises(), roster=roster,
                            layout="moodle", assignment="A")
    assert path.read_bytes() == b"Email address,ID number,A\r\n"


@pytest.mark.parametrize(("score", "maximum", "shown"), [
    (1, 6, 16.7), (3.57, 100, 3.6), (3.45, 100, 3.5), (5.999999999999999, 10, 60.0),
    (99.96, 100, 99.9), (0.01, 100, 0.1), (0, 100, 0.0), (7, 7, 100.0), (1, 0, 0.0),
])
def test_one_rounding_rule_for_percentages(score: float, maximum: float, shown: float) -> None:
    assert percent(score, maximum) == shown


def test_round_percent_rounds_half_up() -> None:
    assert [round_percent(v) for v in (16.666, 3.57, 0.05, 54.25, 12.0)] == [
        16.7, 3.6, 0.1, 54.3, 12.0]


@pytest.mark.parametrize(("layout", "name", "number", "header"), [
    ("canvas", None, None, "Activation functions in NumPy"),
    ("canvas", None, 1234, "Activation functions in NumPy (1234)"),
    ("canvas", "Week 3", 77, "Week 3 (77)"),
    ("canvas", " Week 3 (77) ", None, "Week 3 (77)"),
    ("canvas", "Week 3 (77)", 77, "Week 3 (77)"),
    ("moodle", "Week 3", None, "Week 3"),
    ("plain", None, None, "Activation functions in NumPy"),
])
def test_assignment_header(layout: str, name: str | None, number: int | None,
                           header: str) -> None:
    assert assignment_header(layout, name, number) == header


@pytest.mark.parametrize(("layout", "name", "number", "message"), [
    ("plain", "Week 3", None, "--assignment names the assignment column of --gradebook canvas"),
    ("plain", None, 5, "--assignment-id names the assignment column"),
    ("moodle", None, 5, "--assignment-id is for --gradebook canvas"),
    ("canvas", "Week 3 (77)", 78, "names assignment id 77, --assignment-id says 78"),
    ("canvas", "  ", None, "--assignment: give the assignment's name"),
])
def test_assignment_options_that_cannot_work(layout: str, name: str | None, number: int | None,
                                             message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        assignment_header(layout, name, number)


def test_canvas_warns_only_without_an_assignment_id() -> None:
    assert import_warnings(_run(), None, "canvas", "Activations lesson (1234)") == []
    [warning] = import_warnings(_run(), None, "canvas", "Activations lesson")
    assert warning.startswith("grades-canvas.csv: the column 'Activations lesson' has no "
                              "assignment id, so Canvas will offer to create a new assignment")


def test_unknown_layout_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="layout"):
        write_grades_csv(_run(), tmp_path, exercises=exercises(), layout="blackboard")


@pytest.mark.parametrize("layout", ["plain", "canvas", "moodle"])
def test_no_cell_can_start_a_formula(tmp_path: Path, layout: str) -> None:
    roster = load_roster(_write_roster(tmp_path, ROSTER))
    path = write_grades_csv(_run(), tmp_path, exercises=exercises(), roster=roster, layout=layout)
    with open(path, encoding="utf-8", newline="") as handle:
        cells = [c for row in csv.reader(handle) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c.startswith("-") and not _is_number(c)]


def _is_number(text: str) -> bool:
    """True for a plain decimal the gradebook itself wrote."""
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- Gradescope ---------------------------------------------------------------------------------


def test_gradescope_validates_and_hides_hidden_messages(tmp_path: Path) -> None:
    run = _run()
    schema = _schema("gradescope_results.schema.json")
    for result in run.submissions:
        data = to_gradescope(result, run, execution_time=12.34567)
        jsonschema.validate(data, schema)
        assert SECRET not in json.dumps(data, ensure_ascii=False)
    # Whole seconds, as Gradescope's specification shows them, rounded up.
    assert to_gradescope(run.submissions[0], run, execution_time=12.34567)["execution_time"] == 13
    assert to_gradescope(run.submissions[0], run, execution_time=0)["execution_time"] == 0
    alice = to_gradescope(run.submissions[1], run, execution_time=1.0)
    assert type(alice["execution_time"]) is int and alice["execution_time"] == 1
    tests = alice["tests"]
    assert isinstance(tests, list)
    assert [t["visibility"] for t in tests] == ["visible"] * 3 + ["after_published"] * 2
    assert [t["status"] for t in tests] == ["passed", "failed", "failed", "failed", "passed"]
    assert [t["number"] for t in tests] == ["1.1", "1.2", "2.1", "2.2", "2.3"]
    assert tests[3]["output"] == "Loops over elements are too slow.\n\nHint: Use np.where."
    assert NASTY in tests[1]["output"]
    assert tests[2]["tags"] == ["leaky_relu"]  # function named like its exercise: one tag
    assert alice["extra_data"] == {"submission": "alice", "seed": 1234,
                                   "isolation": "uid+netns+rlimits", "grader_version": "0.1.0"}


def test_gradescope_reveal_option_and_file(tmp_path: Path) -> None:
    run = _run()
    data = to_gradescope(run.submissions[1], run, execution_time=0, reveal_hidden="after_due_date")
    tests = data["tests"]
    assert isinstance(tests, list)
    assert {t["visibility"] for t in tests} == {"visible", "after_due_date"}
    assert SECRET not in json.dumps(data)
    with pytest.raises(ValueError):
        to_gradescope(run.submissions[1], run, execution_time=0, reveal_hidden="sometimes")
    path = write_gradescope(run.submissions[2], run, tmp_path / "results.json", execution_time=3)
    written = json.loads(path.read_text("utf-8"))
    jsonschema.validate(written, _schema("gradescope_results.schema.json"))
    assert written["tests"] == [] and "corrupt zip" in written["output"]
    assert sorted(os.listdir(tmp_path)) == ["results.json"]


# -- JUnit and the step summary -----------------------------------------------------------------


def test_junit_counts_with_junitparser(tmp_path: Path) -> None:
    junitparser = pytest.importorskip("junitparser")
    path = write_junit(_run(), tmp_path / "junit.xml")
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = {s.name: s for s in xml}
    assert list(suites) == [HOSTILE_ID, "alice", "zed"]
    assert (suites["alice"].tests, suites["alice"].failures, suites["alice"].errors) == (5, 1, 2)
    assert (suites[HOSTILE_ID].tests, suites[HOSTILE_ID].failures) == (5, 1)
    assert (suites["zed"].tests, suites["zed"].errors) == (1, 1)
    assert (xml.tests, xml.failures, xml.errors) == (11, 2, 3)
    cases = {c.name: c for c in suites["alice"]}
    failed = cases["test_activations::negative"]
    assert failed.classname == "alice.activations"
    assert failed.result[0].message == 'Expected "0.5", got \'0,5\''
    assert "ReLU keeps positives" in failed.result[0].text


def test_junit_and_summary_follow_reveal(tmp_path: Path) -> None:
    run = _run()
    default = write_junit(run, tmp_path / "junit.xml").read_text("utf-8")
    assert SECRET not in default and "Loops over elements are too slow." in default
    assert "huge" not in default and 'name="hidden test 1 of 2 (leaky_relu.py)"' in default
    names = write_junit(run, tmp_path / "names.xml", reveal="names").read_text("utf-8")
    assert SECRET not in names and 'name="test_leaky_relu::huge"' in names
    revealed = write_junit(run, tmp_path / "all.xml", reveal="all")
    assert SECRET in revealed.read_text("utf-8")
    summary = github_summary_markdown(run)
    assert "huge" not in summary and "1 hidden test failed" in summary
    assert "huge works (hidden): timeout" in github_summary_markdown(run, reveal="names")
    assert md_cell(SECRET) in github_summary_markdown(run, reveal="all")
    with pytest.raises(ValueError, match="reveal must be one of"):
        write_junit(run, tmp_path / "typo.xml", reveal="some")


def test_junit_survives_control_characters(tmp_path: Path) -> None:
    nasty = _test("ansi", "activations", "failed", 0.0, message="\x1b[31mred\x00\x07 </failure>")
    run = _run(SubmissionResult("a&b<c>", "graded", 0.0, 1.0, (nasty,)))
    root = ET.parse(write_junit(run, tmp_path / "junit.xml")).getroot()
    failure = root.find("testsuite/testcase/failure")
    assert root.find("testsuite").get("name") == "a&b<c>"  # type: ignore[union-attr]
    assert failure is not None and failure.text is not None
    assert failure.text.startswith("\\x1b[31mred\\x00\\x07 </failure>")


def test_github_summary_escapes_cells() -> None:
    text = github_summary_markdown(_run())
    class_part, *sections = text.split("\n### ")
    table = [line for line in class_part.splitlines() if line.startswith("| ")]
    assert len(table) == 4
    for line in table:
        assert line.replace("\\|", "").count("|") == 5  # Student, Score, two exercises
    assert "| Student | Score | activations | leaky\\_relu |" == table[0]
    assert "alice | 3 / 6 (50%) | 1 / 2 | 2 / 4 |" in text
    rows = [line for part in sections for line in part.splitlines() if line.startswith("| ")]
    assert all(line.replace("\\|", "").count("|") == 5 for line in rows)  # 4 columns each
    assert "| activations | relu() | 1 / 2 | FAIL |" in rows
    assert "| leaky\\_relu | module checks | 0 / 1 | FAIL |" in rows
    assert "Not graded: corrupt zip" in text and "- ReLU keeps positives" in text
    assert SECRET not in text and "Loops over elements are too slow" in text
    assert "negative works: a\\|b" in text and sections[0].startswith("=cmd\\|")


# -- atomic writes and paths --------------------------------------------------------------------


def test_atomic_writes_leave_no_temp_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.txt"
    write_text_atomic(target, "first ✓\r\n")
    write_bytes_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["out.txt"]

    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(target, "third")
    assert target.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_safe_child_rejects_escapes(tmp_path: Path) -> None:
    assert safe_child(tmp_path, "a", "b.json") == tmp_path.resolve() / "a" / "b.json"
    for parts in (("../x",), ("..",), ("/etc/passwd",), ("a", "../../x"), (".",), ("",)):
        with pytest.raises(ValueError):
            safe_child(tmp_path, *parts)
    (tmp_path / "link").symlink_to(tmp_path.parent)
    with pytest.raises(ValueError):
        safe_child(tmp_path, "link", "x")
