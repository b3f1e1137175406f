"""Loop advisories: read from the source, never by running it, and free of charge; which
functions get one is the course's to say (exercise.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import paths
from grader.judge.style import loop_advisories
from grader.records import TestOutcome
from grader.results import _with_loop_advisories
from tests.test_exercise_spec import make_course

LOOPY = '''
import numpy as np
def relu(z):
    out = np.zeros_like(z, dtype=float)
    for i, v in enumerate(z.flat):
        out.flat[i] = max(0.0, v)
    return out
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
def helper(z):
    return [v for v in z]
'''


def test_loops_in_lesson_functions_get_an_advisory() -> None:
    found = loop_advisories({"activations": LOOPY})
    assert set(found) == {("activations", "relu")}
    assert found[("activations", "relu")] == (
        "relu() uses a Python loop. It works, but NumPy does the same on the whole array at once, "
        "far faster: np.maximum(0, z).")


def test_the_course_names_the_functions_and_what_to_write_instead(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_course(tmp_path, '[loop_advisories]\ncube = "z * z * z"\n')
    monkeypatch.setenv(paths.COURSE_VARIABLE, str(root))
    loopy = "def square(z):\n    return [v * v for v in z]\ndef cube(z):\n    for v in z: pass\n"
    assert loop_advisories({"powers": loopy, "activations": LOOPY}) == {("powers", "cube"): (
        "cube() uses a Python loop. It works, but NumPy does the same on the whole array at "
        "once, far faster: z * z * z.")}


def test_broken_source_gives_no_advisory_and_no_error() -> None:
    assert loop_advisories({"activations": "def relu(z) return", "scaling": "(" * 10_000}) == {}


def outcome(function: str, result: str) -> TestOutcome:
    return TestOutcome(id=f"t::{function}", exercise="activations", function=function, name="t",
                       outcome=result, score=1.0 if result == "passed" else 0.0,  # type: ignore[arg-type]
                       max_score=1.0, visibility="visible")


def test_advisory_goes_on_passed_tests_only_and_costs_nothing() -> None:
    tests = [outcome("relu", "passed"), outcome("relu", "failed"), outcome("sigmoid", "passed")]
    marked = _with_loop_advisories(tests, loop_advisories({"activations": LOOPY}))
    assert [len(t.advisories) for t in marked] == [1, 0, 0]
    assert [t.score for t in marked] == [t.score for t in tests]
