"""Comparison helpers shared by the visible and the hidden tests.

Every helper raises AssertionError with a message a student can act on: which call, on which
input, what was expected and what came back. When the wrong answer has the shape of a known
misconception, the helper raises PitfallDetected instead, so the feedback can name it (the
catalogue with the hints lives in grader.judge.hints). Tests pass the detectors that fit the
function under test through `diagnose=`, e.g. `diagnose=SOFTMAX`; the generic ones (a scalar
where an array is due, a wrong shape, an argument changed in place) always apply.

Values returned by student code are compared as numbers: an int or bool array is as good as a
float array holding the same values. Object identity is never checked, because in the sandbox
every value has crossed a process boundary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from grader.judge.errors import PitfallDetected

FloatArray = NDArray[np.float64]
_Check = Callable[[FloatArray, FloatArray, object], "str | None"]

#: Float64 results should agree with the reference to about 6 significant digits; the absolute
#: floor only matters for values that are (nearly) zero, such as sigmoid(-40).
RTOL = 1e-6
ATOL = 1e-12

#: float32 carries about 7 significant digits (eps = 1.2e-7) and an exp/divide chain loses a
#: few more ulps, so inputs given as float32 are judged to 1e-5 relative. Values below 1e-7
#: are at float32's resolution relative to 1 and count as equal.
FLOAT32_RTOL = 1e-5
FLOAT32_ATOL = 1e-7

#: Entropy adds up n terms p*log(p), each carrying rounding error, and the customary guard
#: log(p + 1e-12) moves the sum by about n * 1e-12 nats. A billionth of a nat is far below
#: anything that matters, so entropies are judged with this absolute floor (rtol stays 1e-6).
ENTROPY_ATOL = 1e-9

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
    check: _Check


def main_input(inp: object) -> NDArray[np.generic]:
    """The array the function was called on: `inp` itself, or the first array in a mapping."""
    if isinstance(inp, Mapping):
        for value in inp.values():
            if isinstance(value, np.ndarray):
                return value
    return np.asarray(inp)


def _arg(inp: object, name: str, default: float) -> float:
    if isinstance(inp, Mapping) and name in inp:
        return float(inp[name])
    return default


def describe(inp: object) -> str:
    """The input as shown in messages: small arrays in full, large ones by shape and range."""
    if isinstance(inp, Mapping):
        return ", ".join(f"{k} = {_describe_value(v)}" for k, v in inp.items())
    return f"z = {_describe_value(inp)}"


def _describe_value(value: object) -> str:
    if not isinstance(value, np.ndarray):
        return repr(value)
    if value.size <= _SHOW_FULL and value.ndim <= 2:
        extra = f"shape {value.shape}, " if value.ndim != 1 else ""
        return f"{_fmt(value)} ({extra}{value.dtype})"
    if value.size == 0:
        return f"empty array of shape {value.shape} ({value.dtype})"
    return (
        f"array of shape {value.shape} ({value.dtype}), values from "
        f"{_fmt_value(float(value.min()))} to {_fmt_value(float(value.max()))}"
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
                finding = _safe_check(detector, got, self.expected, self.inp)
                if finding:
                    error = PitfallDetected(detector.pitfall, f"{finding}\n{message}")
                    break
        if fallback is not None and not isinstance(error, PitfallDetected):
            error = PitfallDetected(fallback, message)
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
        entries.append({"index": index, "expected": _fmt_value(float(expected[where])),
                        "got": _fmt_value(float(got[where])), "differs": bool(differs[where])})
    note = "" if stop - start == size else (
        f"entries {start} to {stop - 1} (in reading order) of {size}; "
        f"{int(flat.sum())} differ in all")
    return entries, note


def _safe_check(detector: Detector, got: FloatArray, expected: FloatArray, inp: object) -> str:
    # A detector that trips over an odd answer must not hide the plain message behind a crash.
    try:
        with np.errstate(all="ignore"):
            return detector.check(got, expected, inp) or ""
    except Exception:  # noqa: BLE001 - detectors are best-effort by design
        return ""


def _fmt(values: NDArray[np.generic]) -> str:
    # One line per array: messages are indented blocks, and a wrapped row would lose its place.
    text = np.array2string(
        values, separator=", ", threshold=_SHOW_FULL, edgeitems=3, max_line_width=10**6
    )
    return text.replace("\n", "")


def _fmt_value(value: float) -> str:
    return f"{value:.10g}"


def _where(index: tuple[int, ...]) -> str:
    if not index:
        return ""
    return f" at index {index[0] if len(index) == 1 else index}"


def _array_line(label: str, arr: NDArray[np.generic]) -> str:
    if arr.ndim == 0:
        return f"{label} {_fmt_value(float(arr))}"
    if arr.size <= _SHOW_FULL and arr.ndim <= 2:
        return f"{label} {_fmt(arr)}"
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
            return "returned complex numbers; activations of real inputs are real"
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
    messages and by the detectors. Returns `got` as a float64 array for further checks.
    For a 0-d expected value a plain number is accepted, as NumPy returns one for 0-d input.
    """
    __tracebackhide__ = True
    exp = np.asarray(expected, dtype=np.float64)
    failure = _Failure(what, inp, case, exp, diagnose)
    problem = _type_problem(got)
    if problem is not None:
        failure.raise_(problem, None, [_array_line("expected:", exp)])
    raw = np.asarray(got)
    arr = raw.astype(np.float64)
    if raw.ndim == 0 and exp.ndim > 0:
        failure.raise_(
            f"returned a single number ({_fmt_value(float(arr))}) where an array of shape "
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
                f"{_fmt_value(float(exp[bad]))}, got {_fmt_value(float(arr[bad]))} "
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
        f"returned {_fmt_value(float(arr[bad]))} where a finite number is due",
        arr,
        [
            _array_line("expected:", exp),
            _array_line("got:     ", raw),
            f"first bad entry{_where(bad)}: expected "
            f"{_fmt_value(float(exp[bad]))} ({int(bad_mask.sum())} of {arr.size} entries are "
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
    """Assert a property (rows sum to 1, tanh is odd, ...) with a message naming the input."""
    __tracebackhide__ = True
    if condition:
        return
    prefix = f"[{case}] " if case else ""
    raise AssertionError(f"{prefix}{message}\n  input:    {describe(inp)}")


# --- detectors: cheap recognisers for the pitfalls in grader.judge.hints -----------------------
# They only run once an answer is already known to be wrong, so they may be loose: a match
# makes the message more helpful, it never decides whether the answer earns points.


def _same(a: FloatArray, b: FloatArray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-9))


def _stable_softmax(logits: FloatArray) -> FloatArray:
    e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    result: FloatArray = e / np.sum(e, axis=-1, keepdims=True)
    return result


def _z(inp: object) -> FloatArray:
    return main_input(inp).astype(np.float64)


def _logits(inp: object) -> FloatArray:
    return _z(inp) / _arg(inp, "temperature", 1.0)


def _np_max(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z = _z(inp)
    if z.size == 0 or (z.size == 1 and float(z.max()) >= 0):
        return None
    if got.size == 1:
        value = float(got.ravel()[0])
        if math.isclose(value, float(z.max())) or math.isclose(value, max(float(z.max()), 0.0)):
            return f"relu returned {_fmt_value(value)}, the largest entry of z, as one number."
    for axis in range(z.ndim if z.ndim > 1 else 0):
        column_max = np.max(z, axis=axis)
        if _same(got, column_max) or _same(got, np.maximum(column_max, 0.0)):
            return f"relu returned the maximum along axis {axis}, not one value per entry of z."
    return None


def _scalar_softmax(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if main_input(inp).size >= 2 and got.size >= 1 and bool(np.all(got == 1.0)):
        return "Every entry came out as 1.0, as if softmax had been applied to each number alone."
    return None


def _softmax_global_max(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    x = _logits(inp)
    if x.ndim < 2 or got.shape != x.shape or np.isfinite(got).all():
        return None
    e = np.exp(x - np.max(x))
    bad = ~np.isfinite(e / np.sum(e, axis=-1, keepdims=True))
    if bad.any() and np.array_equal(bad, ~np.isfinite(got)):
        return (
            "Rows far below the largest logit of the whole batch came out as nan: the maximum "
            "was taken over the whole array instead of row by row."
        )
    return None


def _softmax_overflow(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    x = _logits(inp)
    if np.isfinite(got).all() or float(np.max(np.abs(x), initial=0.0)) < 80:
        return None
    return (
        f"The result holds nan or inf for logits between {_fmt_value(float(x.min()))} and "
        f"{_fmt_value(float(x.max()))}: np.exp overflowed to inf (or every term underflowed to 0)."
    )


def _softmax_whole_array(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if got.ndim < 2 or got.shape != expected.shape or not np.isfinite(got).all():
        return None
    rows = got.sum(axis=-1)
    if math.isclose(float(got.sum()), 1.0, rel_tol=1e-6) and not np.allclose(rows, 1.0):
        return f"The whole array sums to 1, but the rows sum to {_fmt(rows)}."
    return None


def _softmax_wrong_axis(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if got.ndim != 2 or got.shape != expected.shape or not np.isfinite(got).all():
        return None
    if np.allclose(got.sum(axis=0), 1.0) and not np.allclose(got.sum(axis=-1), 1.0):
        return "Each column sums to 1 instead of each row: the sum ran over axis 0."
    return None


def _overflow_nan(name: str, threshold: float) -> _Check:
    def check(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
        z = _z(inp)
        bad = ~np.isfinite(got)
        if got.shape != z.shape or not bad.any() or not np.all(np.abs(z[bad]) > threshold):
            return None
        first = _fmt_value(float(z[bad][0]))
        return f"{name} gave {got[bad][0]} for z = {first}: e^z overflowed and inf / inf is nan."

    return check


def _leaky_int_truncation(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if main_input(inp).dtype.kind not in "iu" or got.shape != expected.shape:
        return None
    if np.array_equal(got, np.trunc(expected)):
        return (
            "The negative entries were cut to whole numbers (e.g. -0.03 became 0): alpha * z "
            "was stored in an integer array."
        )
    return None


def _leaky_ignores_alpha(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z, alpha = _z(inp), _arg(inp, "alpha", 0.01)
    if alpha == 0.01 or got.shape != z.shape:
        return None
    if _same(got, np.where(z > 0, z, 0.01 * z)):
        return f"The result is the one for alpha = 0.01, although alpha = {alpha:g} was passed."
    return None


def _leaky_wrong_alpha(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z, alpha = _z(inp), _arg(inp, "alpha", 0.01)
    neg, pos = z < 0, z > 0
    if got.shape != z.shape or not neg.any():
        return None
    if alpha != 0 and np.allclose(got[neg], alpha):
        return f"For z < 0 the result is alpha itself ({alpha:g}), not alpha * z."
    slopes = got[neg] / z[neg]
    if np.allclose(slopes, slopes[0]) and not math.isclose(float(slopes[0]), alpha):
        slope = _fmt_value(float(slopes[0]))
        return f"For z < 0 the result is {slope} * z; it should be {alpha:g} * z."
    if pos.any() and alpha != 1 and np.allclose(got[pos], alpha * z[pos]):
        return "alpha was applied to the positive entries too; for z > 0 leaky_relu returns z."
    return None


def _relu_grad_at_zero(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z = _z(inp)
    zero = z == 0
    if got.shape != z.shape or not zero.any() or np.allclose(got[zero], 0.0):
        return None
    if np.allclose(got[~zero], expected[~zero]):
        value = _fmt_value(float(got[zero][0]))
        return f"At z = 0 the gradient came out as {value}; it should be 0."
    return None


def _temperature_multiplied(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z, temperature = _z(inp), _arg(inp, "temperature", 1.0)
    if temperature == 1.0 or got.shape != z.shape:
        return None
    if _same(got, _stable_softmax(z * temperature)):
        return (
            f"The result equals softmax(z * {temperature:g}): the logits were multiplied by the "
            "temperature instead of divided by it."
        )
    return None


def _entropy_log_zero(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if (_z(inp) == 0).any() and not np.isfinite(got).all():
        return "The result is nan: zero probabilities went through np.log (0 * log 0 gave nan)."
    return None


def _entropy_bits(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if not np.any(expected != 0):
        return None
    for base, name in ((2.0, "bits (log2)"), (10.0, "base-10 logarithms")):
        if _same(got, expected / math.log(base)):
            return f"The result is the entropy measured in {name}, not in nats."
    return None


def _entropy_sign(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if np.any(expected != 0) and _same(got, -expected):
        return "The result is minus the entropy: the minus sign in -sum(p log p) is missing."
    return None


SOFTMAX: tuple[Detector, ...] = (
    Detector("scalar_softmax", _scalar_softmax),
    Detector("softmax_global_max", _softmax_global_max),
    Detector("softmax_overflow", _softmax_overflow),
    Detector("softmax_whole_array", _softmax_whole_array),
    Detector("softmax_wrong_axis", _softmax_wrong_axis),
)
RELU: tuple[Detector, ...] = (Detector("np_max", _np_max),)
SIGMOID: tuple[Detector, ...] = (Detector("sigmoid_overflow", _overflow_nan("sigmoid", 700.0)),)
TANH: tuple[Detector, ...] = (Detector("tanh_overflow", _overflow_nan("tanh", 300.0)),)
LEAKY_RELU: tuple[Detector, ...] = (
    Detector("leaky_int_truncation", _leaky_int_truncation),
    Detector("leaky_ignores_alpha", _leaky_ignores_alpha),
    Detector("leaky_wrong_alpha", _leaky_wrong_alpha),
)
RELU_GRAD: tuple[Detector, ...] = (Detector("relu_grad_at_zero", _relu_grad_at_zero),)
TEMPERATURE: tuple[Detector, ...] = (
    Detector("temperature_multiplied", _temperature_multiplied),
    *SOFTMAX,
)
ENTROPY: tuple[Detector, ...] = (
    Detector("entropy_log_zero", _entropy_log_zero),
    Detector("entropy_bits", _entropy_bits),
    Detector("entropy_sign", _entropy_sign),
)

# Error text (from the exception the student's code raised) -> pitfall, optionally only for one
# function. Checked in order; the first match wins.
_ERROR_PATTERNS: tuple[tuple[str, str, str | None], ...] = (
    ("NotImplementedError", "not_implemented", None),
    ("only integer scalar arrays can be converted to a scalar index", "np_max", "relu"),
    ("truth value of an array with more than one element is ambiguous", "np_max", "relu"),
    ("truth value of an array with more than one element is ambiguous", "if_on_array", None),
    ("truth value of an empty array is ambiguous", "if_on_array", None),
    ("arrays can be converted to Python scalars", "math_exp_on_array", None),
    ("math range error", "math_exp_on_array", None),
    ("Cannot cast ufunc 'multiply' output", "leaky_int_truncation", "leaky_relu"),
    ("mismatch in its core dimension", "collapse_order", "collapse_linear"),
    ("operands could not be broadcast together", "collapse_bias", "collapse_linear"),
)


def diagnose_error(message: str, function: str | None = None, kind: str = "") -> str | None:
    """The pitfall an exception raised by student code points to, if it is a known one.

    `message` is the error text (ideally 'TypeError: ...'), `function` the function called and
    `kind` the sandbox's error kind ('not_implemented', 'exception', ...).
    """
    if kind == "not_implemented":
        return "not_implemented"
    for pattern, pitfall, only_for in _ERROR_PATTERNS:
        if pattern in message and (only_for is None or only_for == function):
            return pitfall
    return None
