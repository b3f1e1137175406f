"""Where a plotted function gave wrong values on an input its plot does not sample.

A plot samples a function at a few fixed inputs: a function right there and wrong elsewhere
(nan on large inputs, say) draws a plot that matches the reference. So when a test finds wrong
values, the judge keeps that input: the call the failure is about (logged by grader.judge.watch),
the reference's answer to the same call, and the student's. The first such input of each
plotted function (one of a visible test when there is one: the page may always show those)
becomes a bars curve after the function's own plots, when those plots show no difference. Its
`failed_test` names the test, whose visibility and the page's reveal level say what the page
may show of it (grader.reports.context).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from grader import exercise_spec
from grader.judge.checks import describe, main_input
from grader.judge.plots import floats
from grader.judge.watch import Logged, Watch
from grader.records import Curve

#: Most entries a plot of where a function failed shows (a row of a batch, for a batch).
MAX_ENTRIES = 64
#: Most entries of an input array written out in full; a larger one is named by its shape and range.
SHOW_INPUT = 12
#: Longest description of the input kept with the curve.
MAX_INPUT_TEXT = 400
#: Values closer than numpy.allclose's rule count as equal, as on the page's plots.
RTOL, ATOL = 1e-5, 1e-8

Key = tuple[str, str]
"""(exercise, function)."""


@dataclass(frozen=True)
class Failure:
    """An input on which a plotted function gave wrong values, as a test found it."""

    exercise: str
    """Exercise module the function lives in."""
    function: str
    """The function."""
    test: str
    """Id of the test that found it."""
    visible: bool
    """Whether that test is a visible one."""
    inputs: str
    """The input in words, as the test's messages name it."""
    reference: tuple[float, ...]
    """The reference's answer there (a 1-D array, or one row of a batch)."""
    student: tuple[float, ...]
    """The student's answer there."""

    def curve(self) -> dict[str, Any]:
        """The bars curve, as the judge's report carries curves."""
        made = Curve(exercise=self.exercise, function=self.function, kind="bars",
                     x=tuple(float(n) for n in range(len(self.reference))),
                     reference=self.reference, student=self.student, note=self.inputs,
                     failed_test=self.test)
        return {f.name: getattr(made, f.name) for f in fields(made)}


def plotted(exercises: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """The functions with a plot, by exercise."""
    found: dict[str, set[str]] = {}
    for spec in exercise_spec.plots():
        if spec.exercise in exercises:
            found.setdefault(spec.exercise, set()).add(spec.function)
    return {exercise: frozenset(names) for exercise, names in found.items()}


def find(error: BaseException, watch: Watch, exercise: str, test: str,
         visible: bool) -> Failure | None:
    """Where the failure `error` of a test run found wrong values, if it is a wrong answer of
    a plotted function of modest size; else None."""
    try:
        return _find(error, watch, exercise, test, visible)
    except Exception:  # noqa: BLE001 - a plot must never cost a test its verdict
        return None


def _find(error: BaseException, watch: Watch, exercise: str, test: str,
          visible: bool) -> Failure | None:
    observed = getattr(error, "observed", None)
    if not isinstance(error, AssertionError) or not (
            isinstance(observed, tuple) and len(observed) == 3):
        return None
    got, expected, inp = observed
    if np.shape(got) != np.shape(expected):  # a wrong shape, not wrong values: nothing to plot
        return None
    call = _call_of(np.asarray(got, dtype=np.float64), watch.log)
    if call is None:
        return None
    if watch.reference_function(call.function) is not None:
        expected = watch.reference_answer(call.function, call.args, call.kwargs)
    # else a student's own check, without the reference: the test's expectation stands in.
    if expected is None:
        return None
    try:
        reference = np.asarray(expected, dtype=np.float64)
        student = np.asarray(call.value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    shown = _shown(reference, student)
    if shown is None:
        return None
    row, ref, mine = shown
    text = _input_text(inp, row, reference.shape)
    return Failure(exercise, call.function, test, visible, text, ref, mine)


def _call_of(got: np.ndarray, log: list[Logged]) -> Logged | None:
    """The latest logged call that returned `got`: the one the failure is about."""
    for call in reversed(log):
        try:
            value = np.asarray(call.value, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if value.shape == got.shape and np.array_equal(value, got, equal_nan=True):
            return call
    return None


def _differs(reference: np.ndarray, student: np.ndarray) -> np.ndarray:
    close: np.ndarray = np.isclose(student, reference, rtol=RTOL, atol=ATOL, equal_nan=True)
    return ~close


def _shown(reference: np.ndarray, student: np.ndarray
           ) -> tuple[int | None, tuple[float, ...], tuple[float, ...]] | None:
    """(row, reference, student) of the entries to plot: the whole of a 1-D answer, the first
    row of a batch that differs; None when there is nothing of modest size that differs."""
    if reference.shape != student.shape or student.ndim not in (1, 2):
        return None
    row = None
    with np.errstate(all="ignore"):
        if student.ndim == 2:
            rows = _differs(reference, student).any(axis=1)
            if not rows.any():
                return None
            row = int(np.argmax(rows))
            reference, student = reference[row], student[row]
        if not 0 < student.size <= MAX_ENTRIES:
            return None
        ref, mine = floats(reference), floats(student)
        # As the page will see them: rounded for the plot, the difference must remain.
        if not _differs(np.array(ref), np.array(mine)).any():
            return None
    return row, ref, mine


def _input_text(inp: object, row: int | None, shape: tuple[int, ...]) -> str:
    """The input in words; for a row of a batch, that row of the batch's input."""
    if row is None:
        return _words(inp)[:MAX_INPUT_TEXT]
    main = main_input(inp)
    if main.ndim == 2 and main.shape[0] == shape[0]:
        part = main[row]
        picked = {k: part if v is main else v for k, v in inp.items()} \
            if isinstance(inp, Mapping) else part
        return f"row {row} of a batch of {shape[0]}: {_words(picked)}"[:MAX_INPUT_TEXT]
    return f"row {row} of the answer to {_words(inp)}"[:MAX_INPUT_TEXT]


def _words(inp: object) -> str:
    """The input as the checks' messages name it (checks.describe), its small arrays and
    numbers written plainly: 'z = [1000, 1001, 1002]'."""
    # A lone input is named z there too.
    named = list(inp.items()) if isinstance(inp, Mapping) else [("z", inp)]
    plain = [_plain(value) for _, value in named]
    if any(text is None for text in plain):
        return describe(inp)
    return ", ".join(f"{name} = {text}" for (name, _), text in zip(named, plain))


def _plain(value: object) -> str | None:
    """A number, or a short 1-D array of numbers (its dtype said unless float64), in words."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return _number(value)
    if not isinstance(value, np.ndarray) or value.ndim != 1 or value.size > SHOW_INPUT \
            or value.dtype.kind not in "iuf":
        return None
    kind = "" if value.dtype == np.float64 else f" ({value.dtype})"
    return "[" + ", ".join(_number(v) for v in value.tolist()) + "]" + kind


def _number(value: int | float | np.integer | np.floating) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.6g}"


class Failures:
    """The failure kept for each plotted function of each submission of a shard."""

    def __init__(self) -> None:
        self._found: dict[str, dict[Key, Failure]] = {}

    def note(self, sid: str, failure: Failure | None) -> None:
        """Keep `failure` of submission `sid` unless one is kept for its function already. Only a
        visible test's: a hidden test's values are its hidden inputs' answers, never recorded
        (results.json may reach students on some platforms); its page says it in words."""
        if failure is None or not failure.visible:
            return
        self._found.setdefault(sid, {}).setdefault((failure.exercise, failure.function), failure)

    def add_curves(self, sid: str, curves: list[dict[str, Any]]) -> None:
        """Put the failures of `sid` among its curves (and forget them): each after the plots of
        its function, when every one of those matches the reference."""
        for key, failure in self._found.pop(sid, {}).items():
            own = [n for n, c in enumerate(curves) if (c["exercise"], c["function"]) == key]
            if own and all(_matches(curves[n]) for n in own):
                curves.insert(own[-1] + 1, failure.curve())

    def forget(self, sid: str) -> None:
        """Drop what was kept for `sid` (its plots are not drawn)."""
        self._found.pop(sid, None)


def _matches(curve: Mapping[str, Any]) -> bool:
    student, reference = curve.get("student"), curve.get("reference")
    if student is None or reference is None or len(student) != len(reference):
        return False
    with np.errstate(all="ignore"):
        return not _differs(np.array(reference, dtype=float), np.array(student, dtype=float)).any()
