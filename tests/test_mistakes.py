"""Every pitfall of the lesson, graded through the real engine: each mistaken submission loses
points exactly on the function it breaks and is told the misconception with its hint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.engine import GradeOptions, grade_submissions
from grader import pitfalls
from grader.records import GradeRun, SubmissionResult
from grader.submissions import discover
from tests.mistakes.cases import CASES, CORRECT, MISTAKES_DIR

from grader.course import exercises, suite_files


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    """The correct submission and every mistake, graded as one class."""
    base = tmp_path_factory.mktemp("mistakes")
    for name in [CORRECT, *CASES]:
        shutil.copytree(MISTAKES_DIR / name, base / name)
    found = discover(base, tmp_path_factory.mktemp("unpack"))
    run: GradeRun = grade_submissions(found, GradeOptions(jobs=2, exercises=exercises(), plots=False))
    return {s.id: s for s in run.submissions}


def test_correct_submission_scores_full_marks(graded: dict[str, SubmissionResult]) -> None:
    correct = graded[CORRECT]
    failing = [(t.id, t.message) for t in correct.tests if t.outcome != "passed"]
    assert failing == []
    assert correct.score == correct.max_score == suite_points()


def suite_points() -> float:
    """Points the course's tests carry, read from their grade markers: the total is the
    suites', never a number kept here."""
    import ast

    total = 0.0
    for path in suite_files(exercises()):
        for node in ast.walk(ast.parse(Path(path).read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "grade":
                total += sum(float(k.value.value) for k in node.keywords  # type: ignore[attr-defined]
                             if k.arg == "points")
    return total


@pytest.mark.parametrize("name", sorted(CASES))
def test_mistake_loses_points_only_where_it_is(graded: dict[str, SubmissionResult], name: str) -> None:
    case = CASES[name]
    result = graded[name]
    in_module = [t for t in result.tests if t.exercise == case.exercise]
    lost = {t.function for t in in_module if t.outcome != "passed"}
    assert lost == set(case.broken), [(t.id, t.message) for t in in_module if t.outcome != "passed"]
    reported = {t.pitfall for t in in_module if t.outcome != "passed"}
    assert case.pitfall in reported
    reported = next(t for t in in_module if t.pitfall == case.pitfall)
    expected = pitfalls.lookup(case.pitfall)
    assert expected is not None
    assert reported.misconception == expected.misconception
    # The grader's own generic pitfalls (a wrong shape, a single number) come after what was
    # observed of the answer, e.g. 'in shape (1, 3) instead of (3,)'.
    assert reported.hints[-1] == expected.hint


@pytest.mark.parametrize("name", sorted(CASES))
def test_mistake_messages_name_the_function(graded: dict[str, SubmissionResult], name: str) -> None:
    failing = [t for t in graded[name].tests if t.outcome == "failed"]
    assert all(t.message for t in failing)
