"""Comparison helpers for answers that are not arrays: words, yes/no, short tuples of numbers.

They follow grader.judge.checks: every helper raises AssertionError with a message a student can
act on (which call, on which input, what was expected and what came back), or PitfallDetected
when the test names the misconception a wrong answer shows. Answers arrive as plain data:
strings for word answers, tuples or lists for pairs and triples, NumPy arrays and numbers for
everything else. `fail`, `text_problem` and `show_text` are the building blocks of a course's
own helpers for its kinds of answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NoReturn

import numpy as np

from grader.judge.checks import Detector, FloatArray, describe, expect_array
from grader.judge.errors import PitfallDetected

#: Word answers are compared after dropping case, spaces and punctuation: 'Yes', ' yes ',
#: 'Y-es' and 'yes.' all read 'yes'.
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

#: Word answers are shown in messages up to this many characters.
_SHOW_TEXT = 200


def normalise_answer(text: str) -> str:
    """A one-word answer as compared: lower case, with spaces and punctuation dropped."""
    return _NOT_ALNUM.sub("", text.lower())


def fail(what: str, problem: str, inp: object, case: str, details: Sequence[str] = (),
         pitfall: str | None = None, observed: tuple[object, object] | None = None) -> NoReturn:
    """Raise the failure '[case] <what> <problem>' with the input and `details` on lines of
    their own: PitfallDetected(`pitfall`) when one is given, else AssertionError.

    `observed` is the (answer, expected) pair, when both are numbers: the course's detectors
    for the function under test then try them (see grader.judge.diagnosis).
    """
    __tracebackhide__ = True
    prefix = f"[{case}] " if case else ""
    lines = [f"{prefix}{what} {problem}"]
    if inp is not None and not (isinstance(inp, Mapping) and not inp):
        lines.append(f"  input:    {describe(inp)}")
    lines.extend(f"  {line}" for line in details)
    message = "\n".join(lines)
    error = AssertionError(message) if pitfall is None else PitfallDetected(pitfall, message)
    if observed is not None:
        error.observed = (*observed, inp)  # type: ignore[attr-defined]
    raise error


def show_text(text: str) -> str:
    """A text answer as messages quote it, cut after its first 200 characters."""
    return repr(text if len(text) <= _SHOW_TEXT else text[:_SHOW_TEXT] + "...")


def text_problem(got: object) -> str | None:
    """Why `got` is no text answer at all (None, not a string, blank), or None when it is one."""
    if got is None:
        return "returned None: did you forget to `return` the answer?"
    if not isinstance(got, str):
        return f"returned {got!r} ({type(got).__name__}); answer with a string"
    if not got.strip():
        return "returned an empty string"
    return None


def _number_problem(got: object, length: int) -> str | None:
    if got is None:
        return "returned None: did you forget to `return` the answer?"
    if isinstance(got, np.ndarray):
        if got.dtype.kind not in "biuf":
            return f"returned an array of dtype {got.dtype}; expected numbers"
        if got.shape != (length,):
            return f"returned an array of shape {got.shape}; expected {length} numbers"
        return None
    if not isinstance(got, (tuple, list)):
        return f"returned {type(got).__name__}; expected a tuple of {length} numbers"
    if len(got) != length:
        return f"returned a {type(got).__name__} of {len(got)} items; expected {length} numbers"
    for item in got:
        if isinstance(item, (str, bytes)) or item is None:
            return f"returned {item!r} among the numbers; every item must be a number"
        if not isinstance(item, (bool, int, float, np.bool_, np.integer, np.floating)) and not (
                isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype.kind in "biuf"):
            return f"returned a {type(item).__name__} among the numbers; every item must be a number"
    return None


def expect_numbers(got: object, expected: Sequence[float], *, inp: object, what: str,
                   rtol: float = 0.0, atol: float = 1e-3, case: str = "",
                   diagnose: Sequence[Detector] = ()) -> FloatArray:
    """Check a short tuple (or list, or 1-D array) of numbers against `expected`."""
    __tracebackhide__ = True
    values = as_numbers(got, len(expected), inp=inp, what=what, case=case,
                        expected=tuple(expected))
    return expect_array(values, expected, inp=inp, what=what, rtol=rtol, atol=atol, case=case,
                        diagnose=diagnose)


def as_numbers(got: object, length: int, *, inp: object, what: str, case: str = "",
               expected: object = None) -> FloatArray:
    """`got` as a float array when it is a tuple (or list, or 1-D array) of `length` numbers."""
    __tracebackhide__ = True
    problem = _number_problem(got, length)
    if problem is not None:
        details = [] if expected is None else [f"expected: {expected}"]
        fail(what, problem, inp, case, details)
    return np.asarray([float(v) for v in np.asarray(got, dtype=object).ravel()])


def as_number(got: object, *, what: str, inp: object, case: str = "") -> float:
    """`got` as a float when it is one number: a Python or NumPy number, or a 0-d array."""
    __tracebackhide__ = True
    if isinstance(got, (bool, int, float, np.bool_, np.integer, np.floating)):
        return float(got)
    if isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind in "biuf":
        return float(got)
    shown = (f"an array of shape {got.shape}" if isinstance(got, np.ndarray)
             else "None: did you forget to `return` it?" if got is None else repr(got)[:80])
    fail(what, f"returned {shown}; expected a single number", inp, case)


def expect_bool(got: object, expected: bool, *, what: str, inp: object, case: str = "") -> bool:
    """Check a yes/no answer: a Python bool, a NumPy bool or a 0-d bool array."""
    __tracebackhide__ = True
    value: bool | None = None
    if isinstance(got, (bool, np.bool_)):
        value = bool(got)
    elif isinstance(got, np.ndarray) and got.dtype.kind == "b" and got.size == 1:
        value = bool(got.ravel()[0])
    if value is None:
        shown = f"an array of shape {got.shape}" if isinstance(got, np.ndarray) else repr(got)
        fail(what, f"returned {shown}; expected True or False", inp, case,
             [f"expected: {expected}"] + (
                 ["an array of comparisons needs np.any(...) or np.allclose(...) to become "
                  "one answer"] if isinstance(got, np.ndarray) else []))
    if value != expected:
        fail(what, f"returned {value}; expected {expected}", inp, case,
             observed=(np.float64(value), np.float64(expected)))
    return value

