"""Comparison helpers shared by the visible and the hidden tests: the course author's API.

Every helper raises AssertionError with a message a student can act on: which call, on which
input, what was expected and what came back. When the wrong answer has the shape of a known
misconception, the helper raises PitfallDetected instead, so the feedback can name it (the
catalogue with the hints lives in the course's pitfalls.toml files). A course writes detectors
for its own misconceptions (Detector, in its exercises/shared/ code) and tests pass the ones that
fit the function under test through `diagnose=`; the generic ones (a scalar where an array is
due, a wrong shape, an argument changed in place) always apply. Errors raised by student code
are recognised the same way: a course registers ErrorPatterns (recognise_errors) and
diagnose_error tries them (see grader.judge.diagnosis, whose names are also importable here).
A wrong answer no detector recognises carries an observation instead (grader.judge.observations):
what it has in common with the expected one, never a guessed misconception.

Values returned by student code are compared as numbers: an int or bool array is as good as a
float array holding the same values. Object identity is never checked, because in the sandbox
every value has crossed a process boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from grader.judge.diagnosis import ErrorPattern as ErrorPattern
from grader.judge.diagnosis import diagnose_error as diagnose_error
from grader.judge.diagnosis import recognise_answers as recognise_answers
from grader.judge.diagnosis import recognise_errors as recognise_errors
from grader.judge.errors import PitfallDetected
from grader.judge.observations import observe
from grader.judge.proxy import as_passed

FloatArray = NDArray[np.float64]
Check = Callable[[FloatArray, FloatArray, object], "str | None"]

#: Float64 results should agree with the reference to about 6 significant digits; the absolute
#: floor only matters for values that are (nearly) zero, such as e^-40.
RTOL = 1e-6
ATOL = 1e-12

#: float32 carries about 7 significant digits (eps = 1.2e-7) and an exp/divide chain loses a
#: few more ulps, so inputs given as float32 are judged to 1e-5 relative. Values below 1e-7
#: are at float32's resolution relative to 1 and count as equal.
FLOAT32_RTOL = 1e-5
FLOAT32_ATOL = 1e-7

#: Arrays with at most this many entries are printed in full in messages.
_SHOW_FULL = 12


def tolerance(*inputs: object) -> tuple[float, float]:
    """(rtol, atol) suited to the inputs: looser when any input array is float32 or smaller."""
    for value in inputs:
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype.itemsize < 8:
            return FLOAT32_RTOL, FLOAT32_ATOL
    return RTOL, ATOL


@dataclass(frozen=True)
class Detector:
    """Recognises one misconception from a wrong answer.

    `check(got, expected, inp)` gets the student's answer as float64 (any shape), the expected
    value and the input; it returns a sentence saying what it saw, or None.
    """

    pitfall: str
    check: Check


def main_input(inp: object) -> NDArray[np.generic]:
    """The array the function was called on: `inp` itself, or the first array in a mapping."""
    if isinstance(inp, Mapping):
        for value in inp.values():
            if isinstance(value, np.ndarray):
                return value
    return np.asarray(inp)


def input_arg(inp: object, name: str, default: float) -> float:
    """A named scalar argument of the call (e.g. a scale factor), or `default`."""
    if isinstance(inp, Mapping) and name in inp:
        return float(inp[name])
    return default


def describe(inp: object) -> str:
    """The input as shown in messages: small arrays in full, large ones by shape and range."""
    inp = as_passed(inp)  # not what the student's function left in it (see proxy.as_passed)
    if isinstance(inp, Mapping):
        return ", ".join(f"{k} = {_describe_value(v)}" for k, v in inp.items())
    return f"z = {_describe_value(inp)}"


def _describe_value(value: object) -> str:
    if not isinstance(value, np.ndarray):
        return repr(value)
    if value.size <= _SHOW_FULL and value.ndim <= 2:
        extra = f"shape {value.shape}, " if value.ndim != 1 else ""
        return f"{fmt_array(value)} ({extra}{value.dtype})"
    if value.size == 0:
        return f"empty array of shape {value.shape} ({value.dtype})"
    return (
        f"array of shape {value.shape} ({value.dtype}), values from "
        f"{fmt_value(float(value.min()))} to {fmt_value(float(value.max()))}"
    )


@dataclass(frozen=True)
class _Failure:
    """Assembles a failure message and picks AssertionError or PitfallDetected."""

    what: str
    inp: object
    case: str
    expected: FloatArray
    diagnose: Sequence[Detector]

    def raise_(
        self,
        problem: str,
        got: FloatArray | None,
        details: Sequence[str] = (),
        fallback: str | None = None,
        differs: NDArray[np.bool_] | None = None,
    ) -> NoReturn:
        """Raise for `problem`; `got` (as floats) feeds the detectors when it exists.

        With `differs` (which entries are wrong), the exception carries a side-by-side
        `comparison` of expected and got that the feedback page can show for visible tests.
        """
        __tracebackhide__ = True  # failures should point at the test, not here
        prefix = f"[{self.case}] " if self.case else ""
        lines = [f"{prefix}{self.what} {problem}", f"  input:    {describe(self.inp)}"]
        lines.extend(f"  {line}" for line in details)
        message = "\n".join(lines)
        error: AssertionError = AssertionError(message)
        if got is not None:
            for detector in self.diagnose:
                finding = run_detector(detector, got, self.expected, self.inp)
                if finding:
                    error = PitfallDetected(detector.pitfall, f"{finding}\n{message}")
                    break
        recognised = isinstance(error, PitfallDetected)
        if fallback is not None and not recognised:
            error = PitfallDetected(fallback, message)
        if got is not None:
            # Read by the judge: the course's detectors for the function under test try the
            # values, and unless a detector named the mistake, what was observed is told too.
            error.observed = (got, self.expected, self.inp)  # type: ignore[attr-defined]
            if not recognised:
                seen = observe(got, self.expected, self.inp)
                error.observation = seen  # type: ignore[attr-defined]
        if got is not None and differs is not None:
            error.comparison = comparison(self.expected, got, differs)  # type: ignore[attr-defined]
        raise error


#: Most entries a side-by-side comparison shows; larger arrays show a window around a difference.
COMPARE_ENTRIES = 12


def comparison(expected: FloatArray, got: FloatArray,
               differs: NDArray[np.bool_]) -> tuple[list[dict[str, object]], str]:
    """Entries of expected and got (all, or a window from just before the first difference)."""
    flat = differs.reshape(-1)
    size = int(flat.size)
    first = int(np.argmax(flat)) if flat.any() else 0
    start = max(0, min(first - 2, size - COMPARE_ENTRIES))
    stop = min(size, start + COMPARE_ENTRIES)
    entries: list[dict[str, object]] = []
    for n in range(start, stop):
        where = np.unravel_index(n, differs.shape) if differs.ndim else ()
        index = str(where[0]) if len(where) == 1 else str(tuple(int(i) for i in where))
        entries.append({"index": index, "expected": fmt_value(float(expected[where])),
                        "got": fmt_value(float(got[where])), "differs": bool(differs[where])})
    note = "" if stop - start == size else (
        f"entries {start} to {stop - 1} (in reading order) of {size}; "
        f"{int(flat.sum())} differ in all")
    return entries, note


def run_detector(detector: Detector, got: object, expected: object, inp: object) -> str:
    """What `detector` says of the answer `got` ('' when it recognises nothing)."""
    # A detector that trips over an odd answer must not hide the plain message behind a crash.
    try:
        with np.errstate(all="ignore"):
            return detector.check(np.asarray(got, dtype=np.float64),
                                  np.asarray(expected, dtype=np.float64), inp) or ""
    except Exception:  # noqa: BLE001 - detectors are best-effort by design
        return ""


def fmt_array(values: NDArray[np.generic]) -> str:
    """An array as messages show it."""
    # One line per array: messages are indented blocks, and a wrapped row would lose its place.
    text = np.array2string(
        values, separator=", ", threshold=_SHOW_FULL, edgeitems=3, max_line_width=10**6
    )
    return text.replace("\n", "")


def fmt_value(value: float) -> str:
    """A number as messages show it."""
    return f"{value:.10g}"


def _where(index: tuple[int, ...]) -> str:
    if not index:
        return ""
    return f" at index {index[0] if len(index) == 1 else index}"


def _array_line(label: str, arr: NDArray[np.generic]) -> str:
    if arr.ndim == 0:
        return f"{label} {fmt_value(float(arr))}"
    if arr.size <= _SHOW_FULL and arr.ndim <= 2:
        return f"{label} {fmt_array(arr)}"
    return f"{label} array of shape {arr.shape}, dtype {arr.dtype}"


def _type_problem(got: object) -> str | None:
    """Why `got` is not usable as numbers at all, or None when it is."""
    if got is None:
        return "returned None: did you forget to `return` the result?"
    if isinstance(got, (list, tuple)):
        kind = type(got).__name__
        return f"returned a Python {kind}, not a NumPy array: build the result with NumPy " \
            "operations (or wrap it in np.array(...))"
    if isinstance(got, str):
        return f"returned the string {got[:40]!r} instead of numbers"
    if isinstance(got, np.ndarray):
        if got.dtype.kind == "c":
            return "returned complex numbers; real inputs should give real results"
        if got.dtype.kind not in "biuf":
            return f"returned an array of dtype {got.dtype}; expected numbers"
        return None
    if isinstance(got, (bool, int, float, np.bool_, np.integer, np.floating)):
        return None
    return f"returned an object of type {type(got).__name__}; expected a NumPy array"


def expect_array(
    got: object,
    expected: object,
    *,
    inp: object,
    what: str,
    rtol: float = RTOL,
    atol: float = ATOL,
    case: str = "",
    diagnose: Sequence[Detector] = (),
) -> FloatArray:
    """Check that `got` is an array with the shape of `expected` and close values.

    `inp` is the input (an array, or a mapping of argument names to values) and is only used in
    messages and by the detectors, as it was passed (proxy.as_passed: not as the student's
    function left it). Returns `got` as a float64 array for further checks.
    For a 0-d expected value a plain number is accepted, as NumPy returns one for 0-d input.
    """
    __tracebackhide__ = True
    exp = np.asarray(expected, dtype=np.float64)
    failure = _Failure(what, as_passed(inp), case, exp, diagnose)
    problem = _type_problem(got)
    if problem is not None:
        failure.raise_(problem, None, [_array_line("expected:", exp)])
    raw = np.asarray(got)
    arr = raw.astype(np.float64)
    if raw.ndim == 0 and exp.ndim > 0:
        failure.raise_(
            f"returned a single number ({fmt_value(float(arr))}) where an array of shape "
            f"{exp.shape} is due",
            arr,
            [_array_line("expected:", exp)],
            fallback="returns_scalar",
        )
    if arr.shape != exp.shape:
        failure.raise_(
            f"returned an array of shape {arr.shape}; expected shape {exp.shape}",
            arr,
            [_array_line("expected:", exp), _array_line("got:     ", raw)],
            fallback="wrong_shape",
        )
    _expect_finite(failure, arr, raw, exp)
    close = np.isclose(arr, exp, rtol=rtol, atol=atol)
    if not close.all():
        bad = tuple(int(i) for i in np.argwhere(~close)[0])
        failure.raise_(
            "returned wrong values",
            arr,
            [
                _array_line("expected:", exp),
                _array_line("got:     ", raw),
                f"first difference{_where(bad)}: expected "
                f"{fmt_value(float(exp[bad]))}, got {fmt_value(float(arr[bad]))} "
                f"({int((~close).sum())} of {close.size} values differ; rtol={rtol:g}, "
                f"atol={atol:g})",
            ],
            differs=~close,
        )
    return arr


def _expect_finite(
    failure: _Failure, arr: FloatArray, raw: NDArray[np.generic], exp: FloatArray
) -> None:
    __tracebackhide__ = True
    bad_mask = ~np.isfinite(arr) & np.isfinite(exp)
    if not bad_mask.any():
        return
    bad = tuple(int(i) for i in np.argwhere(bad_mask)[0])
    failure.raise_(
        f"returned {fmt_value(float(arr[bad]))} where a finite number is due",
        arr,
        [
            _array_line("expected:", exp),
            _array_line("got:     ", raw),
            f"first bad entry{_where(bad)}: expected "
            f"{fmt_value(float(exp[bad]))} ({int(bad_mask.sum())} of {arr.size} entries are "
            "nan or inf)",
        ],
        differs=bad_mask,
    )


def expect_close_scalar(
    got: object,
    expected: float,
    *,
    inp: object,
    what: str,
    rtol: float = RTOL,
    atol: float = ATOL,
    case: str = "",
    diagnose: Sequence[Detector] = (),
) -> float:
    """Check that `got` is one number close to `expected` (a 0-d array counts as one number)."""
    __tracebackhide__ = True
    arr = expect_array(
        got, expected, inp=inp, what=what, rtol=rtol, atol=atol, case=case, diagnose=diagnose
    )
    return float(arr)


def expect_unchanged(z: object, z_before: object, *, what: str, case: str = "") -> None:
    """Check that the call left its argument as it was (`z_before` is a copy taken before it)."""
    __tracebackhide__ = True
    now = np.asarray(z)
    before = np.asarray(z_before)
    if now.shape == before.shape and now.dtype == before.dtype and np.array_equal(now, before):
        return
    prefix = f"[{case}] " if case else ""
    raise PitfallDetected(
        "modifies_input",
        f"{prefix}{what} changed its argument in place\n"
        f"  {_array_line('before the call:', before)}\n"
        f"  {_array_line('after the call: ', now)}",
    )


def expect_true(condition: bool, message: str, *, inp: object, case: str = "") -> None:
    """Assert a property (rows sum to 1, a function is odd, ...) with a message naming the input."""
    __tracebackhide__ = True
    if condition:
        return
    prefix = f"[{case}] " if case else ""
    raise AssertionError(f"{prefix}{message}\n  input:    {describe(inp)}")
