"""Gradescope autograder results.json for one submission.

Follows Gradescope's published "Autograder Specifications" (output format section): top-level
score, execution_time, output, visibility, stdout_visibility, extra_data and one tests[] entry per
test. schemas/gradescope_results.schema.json encodes that format.

Hidden tests never carry their failure message: Gradescope shows a test's output to the student
once its visibility allows, and the message may describe the hidden inputs. Their output is the
misconception and lesson hints only.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from grader.atomic import write_text_atomic
from grader.records import GradeRun, SubmissionResult, TestOutcome

#: Gradescope's visibility values, from most to least restrictive.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def _visible_output(test: TestOutcome) -> str:
    """What a student sees for a visible test: the message, then hints and advisories."""
    parts: list[str] = []
    if test.outcome != "passed":
        parts.append(test.message or f"Test {test.outcome}.")
        if test.misconception:
            parts.append(test.misconception)
        parts.extend(f"Hint: {h}" for h in test.hints)
    parts.extend(f"Note: {a}" for a in test.advisories)
    return "\n\n".join(parts)


def _hidden_output(test: TestOutcome) -> str:
    """What a student sees for a hidden test: never the message, only the lesson's words."""
    if test.outcome == "passed":
        return ""
    parts = [test.misconception] if test.misconception else []
    parts.extend(f"Hint: {h}" for h in test.hints)
    return "\n\n".join(parts)


def _numbers(tests: tuple[TestOutcome, ...]) -> list[str]:
    """Gradescope test numbers '<exercise>.<test>' in order of first appearance."""
    exercise_index: dict[str, int] = {}
    per_exercise: dict[str, int] = {}
    numbers: list[str] = []
    for test in tests:
        exercise_index.setdefault(test.exercise, len(exercise_index) + 1)
        per_exercise[test.exercise] = per_exercise.get(test.exercise, 0) + 1
        numbers.append(f"{exercise_index[test.exercise]}.{per_exercise[test.exercise]}")
    return numbers


def _test_entry(test: TestOutcome, number: str, hidden_visibility: str) -> dict[str, object]:
    """One tests[] entry."""
    hidden = test.visibility == "hidden"
    tags = [test.exercise]
    if test.function and test.function != test.exercise:
        tags.append(test.function)
    return {
        "name": test.name or test.id,
        "number": number,
        "score": float(test.score),
        "max_score": float(test.max_score),
        "status": "passed" if test.outcome == "passed" else "failed",
        "output": _hidden_output(test) if hidden else _visible_output(test),
        "output_format": "text",
        "tags": tags,
        "visibility": hidden_visibility if hidden else "visible",
        "extra_data": {"id": test.id, "outcome": test.outcome},
    }


def _summary(result: SubmissionResult) -> str:
    """Top-level output: the total and anything about the submission as a whole."""
    lines = [f"Score: {result.score:g} / {result.max_score:g}"]
    if result.status == "error":
        lines.append(f"Your submission could not be graded: {result.error or 'unknown error'}")
    lines.extend(result.problems)
    return "\n".join(lines)


def to_gradescope(
    result: SubmissionResult,
    run: GradeRun,
    *,
    execution_time: float,
    reveal_hidden: str = "after_published",
) -> dict[str, object]:
    """The Gradescope results.json data for one submission.

    reveal_hidden is the Gradescope visibility given to hidden tests (visible tests are always
    "visible"); it does not change their output, which never includes the failure message.
    """
    if reveal_hidden not in VISIBILITIES:
        raise ValueError(f"reveal_hidden must be one of {', '.join(VISIBILITIES)}")
    numbers = _numbers(result.tests)
    return {
        "score": float(result.score),
        # Whole seconds, as the specification shows them; rounded up, so that a run that took
        # any time at all never reads 0.
        "execution_time": math.ceil(max(0.0, float(execution_time))),
        "output": _summary(result),
        "output_format": "text",
        "visibility": "visible",
        # stdout is the grader's own log, meant for instructors only.
        "stdout_visibility": "hidden",
        "extra_data": {
            "submission": result.id,
            "seed": run.seed,
            "isolation": run.isolation,
            "grader_version": run.grader_version,
        },
        "tests": [
            _test_entry(t, n, reveal_hidden) for t, n in zip(result.tests, numbers, strict=True)
        ],
    }


def write_gradescope(
    result: SubmissionResult,
    run: GradeRun,
    path: Path,
    *,
    execution_time: float,
    reveal_hidden: str = "after_published",
) -> Path:
    """Write the Gradescope results.json for one submission to path atomically."""
    data = to_gradescope(result, run, execution_time=execution_time, reveal_hidden=reveal_hidden)
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(Path(path), text)
    return Path(path)
