"""A function right on its plot's inputs and wrong elsewhere gets a plot of where a test found
the difference, shown as far as the test's visibility and the page's reveal level allow."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import html5lib  # type: ignore[import-untyped]
import jsonschema
import numpy as np
import pytest

from grader.judge.checks import expect_array
from grader.judge.proxy import StudentModule
from grader.judge.watch import Watch
from grader.judge.where_failed import MAX_ENTRIES, Failure, Failures, find
from grader.records import CallResult, Curve, GradeRun, SubmissionResult, TestOutcome
from grader.reports.context import UNSAMPLED_LOSS, plot_views
from grader.reports.failed_plots import SHOWN_ELSEWHERE
from grader.reports.results_json import dict_to_run, dumps_results

REPO = Path(__file__).resolve().parents[1]
UNSAMPLED = "It still lost points on inputs this plot does not sample"

ELEMENTWISE = '''
import numpy as np

def relu(z):
    return np.maximum(0, z)

def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def tanh(z):
    return np.tanh(z)
'''
# Right on the plot's [1, 2, 3], nan where np.exp overflows (a visible test's [1000, 1001, 1002]).
UNSTABLE = ELEMENTWISE + '''
def softmax(z):
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)
'''
# Right on every vector; in a batch, rows far below the batch's largest logit give 0 / 0: only a
# hidden test has such a batch.
GLOBAL_MAX = ELEMENTWISE + '''
def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e, axis=-1, keepdims=True)
'''
STABLE = ELEMENTWISE + '''
def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''
# alpha * z stored back into an integer array: right on the plot's floats, cut to whole numbers
# on the visible test's integer z.
INT_LEAKY = '''
import numpy as np

def leaky_relu(z, alpha=0.01):
    out = z.copy()
    out[z < 0] = alpha * z[z < 0]
    return out

def relu_grad(z):
    return (z > 0).astype(float)
'''
LARGE_LOGITS = "test_activations_public::test_softmax_large_logits"
ROWS_AT_SCALES = "test_activations::test_softmax_rows_at_different_scales"


def grade(subs: Path, out: Path, exercise: str, reveal: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "grader", str(subs), "--out", str(out),
                           "--exercise", exercise, "--reveal", reveal],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    schema = json.loads((REPO / "schemas" / "results.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    return data


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The class graded once per reveal level; its output folders by level."""
    subs = tmp_path_factory.mktemp("subs")
    # twin answers as unstable does: its verdicts are reused, and so is where they failed.
    for sid, source in {"unstable": UNSTABLE, "twin": UNSTABLE, "globalmax": GLOBAL_MAX,
                        "stable": STABLE}.items():
        (subs / sid).mkdir()
        (subs / sid / "activations.py").write_text(source, encoding="utf-8")
    outs = {}
    for reveal in ("all", "names", "none"):
        outs[reveal] = tmp_path_factory.mktemp(f"out-{reveal}")
        grade(subs, outs[reveal], "activations", reveal)
    return outs


def submission(out: Path, sid: str) -> dict[str, Any]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    found: dict[str, Any] = next(s for s in data["submissions"] if s["id"] == sid)
    return found


def curves(out: Path, sid: str) -> list[dict[str, Any]]:
    return list(submission(out, sid)["curves"])


def title_of(out: Path, sid: str, test_id: str) -> str:
    return str(next(t["name"] for t in submission(out, sid)["tests"] if t["id"] == test_id))


def figures(out: Path, sid: str) -> list[str]:
    """The text of each plot of the student's page (charts left out), whitespace collapsed."""
    page = (out / sid / "feedback.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    found = []
    for figure in re.findall(r'<figure class="plot">(.*?)</figure>', page, re.S):
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", figure, flags=re.S))
        found.append(" ".join(html.unescape(text).split()))
    return found


def test_results_record_the_input_a_visible_test_failed_on(graded: dict[str, Path]) -> None:
    found = curves(graded["all"], "unstable")
    names = [(c["function"], c["kind"], c.get("failed_test")) for c in found]
    # Right after the function's own plot, and one only, though three tests failed.
    assert names[-2:] == [("softmax", "bars", None), ("softmax", "bars", LARGE_LOGITS)]
    where = found[-1]
    assert where["note"] == "z = [1000, 1001, 1002]"
    assert where["x"] == [0, 1, 2] and where["student"] == [None, None, None]
    assert np.allclose(where["reference"], [0.0900306, 0.244728, 0.665241])
    # Its own plot matches: the where-it-failed plot is what shows the difference.
    assert found[-2]["student"] == found[-2]["reference"]


def test_reused_verdicts_keep_where_they_failed(graded: dict[str, Path]) -> None:
    assert curves(graded["all"], "twin") == curves(graded["all"], "unstable")


def test_a_correct_function_gets_no_such_plot(graded: dict[str, Path]) -> None:
    assert not any(c.get("failed_test") for c in curves(graded["all"], "stable"))
    assert not any("where a test failed" in f for f in figures(graded["all"], "stable"))


@pytest.mark.parametrize("reveal", ["all", "none"])
def test_a_visible_test_is_shown_whatever_the_reveal_level(graded: dict[str, Path],
                                                          reveal: str) -> None:
    out = graded[reveal]
    own, where = [f for f in figures(out, "unstable") if f.startswith("softmax()")]
    assert UNSAMPLED not in own and SHOWN_ELSEWHERE.strip() in own
    assert where.startswith("softmax() in activations.py, where a test failed")
    name = title_of(out, "unstable", LARGE_LOGITS)
    assert (f"Where it failed: z = [1000, 1001, 1002] (test '{name}'): yours gives nan, nan, "
            "nan where the reference gives 0.09003, 0.2447, 0.6652.") in where


@pytest.mark.parametrize("reveal", ["all", "names", "none"])
def test_a_hidden_test_s_values_are_never_recorded(graded: dict[str, Path], reveal: str) -> None:
    """The global-max softmax fails only a hidden test (a batch at very different scales): its
    input and answers are hidden values, kept out of results.json and the page at every level."""
    out = graded[reveal]
    assert not [c for c in curves(out, "globalmax") if c.get("failed_test")]
    (own,) = [f for f in figures(out, "globalmax") if f.startswith("softmax()")]
    assert UNSAMPLED in own
    page = (out / "globalmax" / "feedback.html").read_text(encoding="utf-8")
    assert "Where it failed" not in page
    if reveal != "all":  # which shows hidden tests' messages, values included
        assert "-1000, -1000, -999" not in page and "0.2119" not in page


def test_integer_input_through_the_command(tmp_path: Path) -> None:
    (tmp_path / "subs" / "cut").mkdir(parents=True)
    (tmp_path / "subs" / "cut" / "leaky_relu.py").write_text(INT_LEAKY, encoding="utf-8")
    grade(tmp_path / "subs", tmp_path / "out", "leaky_relu", "none")
    (where,) = [c for c in curves(tmp_path / "out", "cut") if c.get("failed_test")]
    assert where["note"] == "z = [-3, -1, 0, 1, 3] (int64)"
    assert where["reference"] == [-0.03, -0.01, 0, 1, 3] and where["student"] == [0, 0, 0, 1, 3]
    own, drawn = figures(tmp_path / "out", "cut")
    assert UNSAMPLED not in own and "yours gives 0, 0, 0, 1, 3" in drawn


# -- the judge's part, piece by piece ----------------------------------------------------------


class FakeSession:
    """The part of a sandbox session the proxy uses: answers with a local function."""

    def __init__(self, function: Any) -> None:
        self.sources = {"lesson": "..."}
        self.function = function

    def call(self, module: str, function: str, args: tuple[object, ...],
             kwargs: dict[str, object]) -> CallResult:
        # As in the sandbox: the function gets copies, and what it left in them comes back.
        copies = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
        value = self.function(*copies, **kwargs)
        return CallResult(True, value, after=copies)


def watch_of(function: Any, reference: Any, plotted: str = "double") -> tuple[Watch, Any]:
    """A Watch of the functions named `plotted`; a student whose double() is `function`,
    against a reference whose double() is `reference` (None: the reference has no such function)."""
    module = types.ModuleType("lesson_reference")
    if reference is not None:
        module.__dict__["double"] = reference
    watch = Watch(frozenset({plotted}), lambda: module)
    session: Any = FakeSession(function)
    return watch, watch.module(StudentModule(session, "lesson", lambda _: None))


def failure_of(student: Any, z: np.ndarray, expected: object) -> AssertionError:
    with pytest.raises(AssertionError) as caught:
        expect_array(student.double(z), expected, inp=z, what="double(z)")
    return caught.value


def in_place_half(z: np.ndarray) -> np.ndarray:
    z *= 0.5  # changed in place: the judge must keep the input as it was passed
    return z


def test_the_input_is_kept_as_it_was_passed() -> None:
    watch, student = watch_of(in_place_half, lambda z: 2 * z)
    z = np.array([1.0, 2.0])
    error = failure_of(student, z, [2.0, 4.0])
    found = find(error, watch, "lesson", "t::double", visible=True)
    assert found is not None
    assert (found.inputs, found.reference, found.student) == ("z = [1, 2]", (2.0, 4.0), (0.5, 1.0))


def test_the_reference_answers_not_the_tests_own_expectation() -> None:
    # A test may compare an answer with another of the student's own (shift invariance, say).
    watch, student = watch_of(lambda z: z + 1, lambda z: 2 * z)
    error = failure_of(student, np.array([1.0, 3.0]), [5.0, 5.0])
    found = find(error, watch, "lesson", "t::double", visible=False)
    assert found is not None and found.reference == (2.0, 6.0) and not found.visible


def test_without_a_reference_the_test_expectation_stands_in() -> None:
    watch, student = watch_of(lambda z: z + 1, None)
    error = failure_of(student, np.array([1.0, 3.0]), [2.0, 6.0])
    found = find(error, watch, "lesson", "t::double", visible=True)
    assert found is not None and found.reference == (2.0, 6.0)


def test_what_is_not_plotted_small_or_a_wrong_value_gets_nothing() -> None:
    watch, student = watch_of(lambda z: z + 1, lambda z: 2 * z, plotted="other")
    assert find(failure_of(student, np.array([3.0]), [6.0]), watch, "e", "t", True) is None
    watch, student = watch_of(lambda z: z + 1, lambda z: 2 * z)
    large = np.arange(MAX_ENTRIES + 1.0)
    assert find(failure_of(student, large, 2 * large), watch, "e", "t", True) is None
    shape = failure_of(student, np.array([1.0, 2.0]), [[2.0, 4.0]])
    assert find(shape, watch, "e", "t", True) is None
    assert find(ValueError("raised"), watch, "e", "t", True) is None


def failure(test: str, visible: bool, student: tuple[float, ...] = (0.0, 2.0)) -> Failure:
    return Failure("lesson", "double", test, visible, "z = [1, 2]", (2.0, 4.0), student)


def plot(function: str, student: tuple[float, ...] | None) -> dict[str, object]:
    return {"exercise": "lesson", "function": function, "kind": "line", "x": (1.0, 2.0),
            "reference": (2.0, 4.0), "student": student, "note": ""}


def test_only_a_visible_failure_is_kept() -> None:
    failures = Failures()
    failures.note("ann", failure("hidden::a", False))
    failures.note("ann", failure("visible::b", True))
    failures.note("ann", failure("visible::c", True))
    found = [plot("double", (2.0, 4.0)), plot("other", (2.0, 4.0))]
    failures.add_curves("ann", found)
    assert [c.get("failed_test") for c in found] == [None, "visible::b", None]
    assert found[1]["kind"] == "bars" and found[1]["x"] == (0.0, 1.0)


@pytest.mark.parametrize("own", [
    [plot("double", (2.0, 5.0))],  # the plot itself shows a difference
    [plot("double", None)],  # no curve of the student's
    [plot("other", (2.0, 4.0))],  # the function has no plot
])
def test_only_a_plot_that_matches_gets_a_plot_of_where_it_failed(
        own: list[dict[str, object]]) -> None:
    failures = Failures()
    failures.note("ann", failure("visible::b", True))
    failures.add_curves("ann", own)
    assert not any(c.get("failed_test") for c in own)


# -- results.json and the page --------------------------------------------------------------------

REF = (0.09, 0.24, 0.67)
NAN = float("nan")
OWN = Curve("lesson", "norm", "bars", (0.0, 1.0, 2.0), REF, REF)
WHERE = Curve("lesson", "norm", "bars", (0.0, 1.0, 2.0), REF, (NAN, NAN, NAN),
              note="z = [1000, 1001, 1002]", failed_test="hidden_suite::big")


def outcome(visibility: Any) -> TestOutcome:
    return TestOutcome(id="hidden_suite::big", exercise="lesson", function="norm",
                       name="norm stays finite for big inputs", outcome="failed", score=0.0,
                       max_score=1.0, visibility=visibility,
                       message="norm(z) returned nan")


def test_results_json_keeps_the_test_and_leaves_other_curves_as_they_were() -> None:
    result = SubmissionResult("ann", "graded", 0.0, 1.0, (outcome("hidden"),), curves=(OWN, WHERE))
    text = dumps_results(GradeRun("1", 7, "rlimits", (result,)), include_timings=False)
    data = json.loads(text)
    own, where = data["submissions"][0]["curves"]
    assert "failed_test" not in own and where["failed_test"] == "hidden_suite::big"
    jsonschema.validate(data, json.loads((REPO / "schemas" / "results.schema.json").read_text()))
    (back,) = dict_to_run(data).submissions
    assert back.curves[1].failed_test == "hidden_suite::big" and back.curves[0].failed_test == ""


@pytest.mark.parametrize("visibility, reveal, drawn", [
    ("visible", "none", True), ("hidden", "all", True), ("hidden", "names", False),
    ("hidden", "none", False)])
def test_the_page_follows_the_reveal_rule_of_hidden_messages(visibility: str, reveal: Any,
                                                             drawn: bool) -> None:
    views = plot_views((OWN, WHERE), (outcome(visibility),), reveal,
                       {("lesson", "norm")})
    assert len(views) == (2 if drawn else 1)
    assert UNSAMPLED_LOSS not in views[0].caption
    if drawn:
        assert views[0].caption.endswith(SHOWN_ELSEWHERE)
        assert views[1].note.startswith("Where it failed: z = [1000, 1001, 1002] (test 'norm")
    else:
        assert "1000" not in views[0].caption and "0.67" not in views[0].caption
        assert ("norm stays finite" in views[0].caption) == (reveal == "names")


def test_a_curve_whose_test_is_not_on_the_page_is_left_out() -> None:
    views = plot_views((OWN, WHERE), (), "all", {("lesson", "norm")})
    assert len(views) == 1 and views[0].caption.endswith(UNSAMPLED_LOSS)
