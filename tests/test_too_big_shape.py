"""An answer too big to send back names the shape the reference returns for the same call, next
to the size and shape that came back: the student sees at once what was due."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from grader.judge.errors import StudentError, StudentTimeout
from grader.judge.proxy import StudentModule
from grader.judge.watch import Watch
from grader.records import CallResult

REPO = Path(__file__).resolve().parents[1]
Z = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
TOO_BIG = ("your relu() returned 100,000,000 values (float64, shape (10000, 10000)), more than "
           "an answer may hold (32 MiB)")


class FakeSession:
    """The part of a sandbox session the proxy uses: every call gets `result`."""

    def __init__(self, result: CallResult) -> None:
        self.sources = {"lesson": "def relu(z):\n    return z\n"}
        self.result = result

    def call(self, module: str, function: str, args: tuple[object, ...],
             kwargs: dict[str, object]) -> CallResult:
        return self.result


def reference(**functions: object) -> types.ModuleType:
    module = types.ModuleType("lesson_reference")
    module.__dict__.update(functions)
    return module


def watched(result: CallResult, found: types.ModuleType | None) -> object:
    def module() -> types.ModuleType:
        if found is None:
            raise FileNotFoundError("no reference solution in this installation")
        return found
    session = FakeSession(result)
    return Watch(frozenset(), module).module(
        StudentModule(session, "lesson", lambda _: None))  # type: ignore[arg-type]


def raised(student: object, *args: object) -> StudentError:
    with pytest.raises(StudentError) as caught:
        student.relu(*args)  # type: ignore[attr-defined]
    return caught.value


def big() -> CallResult:
    return CallResult(ok=False, kind="too_big", message=TOO_BIG)


def test_the_message_names_the_shape_the_reference_returns() -> None:
    student = watched(big(), reference(relu=lambda z: np.maximum(z, 0)))
    error = raised(student, Z)
    assert error.kind == "too_big" and error.function == "relu"
    assert error.message == TOO_BIG + "; expected shape (5,)"
    batch = raised(student, np.zeros((2, 3)))
    assert batch.message.endswith("; expected shape (2, 3)")


def test_a_single_number_due_is_said_so() -> None:
    student = watched(big(), reference(relu=lambda z: float(np.sum(z))))
    assert raised(student, Z).message == TOO_BIG + "; expected a single number"


@pytest.mark.parametrize("found", [
    None,  # a student's own check: the installation has no reference
    reference(relu=lambda z: 1 / 0),  # the reference refuses the input
    reference(),  # no such function in the reference
])
def test_without_an_answer_of_the_reference_the_message_is_unchanged(
        found: types.ModuleType | None) -> None:
    assert raised(watched(big(), found), Z).message == TOO_BIG


def test_other_failures_are_left_as_they_are() -> None:
    slow = CallResult(ok=False, kind="timeout", message="relu() took longer than 2 s")
    error = raised(watched(slow, reference(relu=lambda z: z)), Z)
    assert isinstance(error, StudentTimeout) and error.message == "relu() took longer than 2 s"


HUGE = '''
import numpy as np

def relu(z):
    # A view of one number: 10^8 entries as NumPy counts them, nothing allocated.
    return np.broadcast_to(np.float64(0.0), (10000, 10000))

def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def tanh(z):
    return np.tanh(z)

def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''


def test_graded_through_the_command_the_page_says_what_was_due(tmp_path: Path) -> None:
    (tmp_path / "subs" / "huge").mkdir(parents=True)
    (tmp_path / "subs" / "huge" / "activations.py").write_text(HUGE, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "grader", str(tmp_path / "subs"), "--out",
                           str(tmp_path / "out"), "--exercise", "activations", "--reveal", "all"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr
    (sub,) = json.loads((tmp_path / "out" / "results.json").read_text())["submissions"]
    lesson = next(t for t in sub["tests"] if t["id"].endswith("_public::test_relu_lesson_example"))
    assert lesson["outcome"] == "error"
    assert lesson["message"] == ("your relu() returned 100,000,000 values (float64, shape "
                                 "(10000, 10000)), more than an answer may hold (32 MiB); "
                                 "expected shape (5,)")
    # The plot samples 61 points in one call: that is the shape due there.
    (plot,) = [c for c in sub["curves"] if c["function"] == "relu"]
    assert plot["student"] is None and plot["note"].endswith("; expected shape (61,)")
    page = (tmp_path / "out" / "huge" / "feedback.html").read_text(encoding="utf-8")
    assert "expected shape (5,)" in page
