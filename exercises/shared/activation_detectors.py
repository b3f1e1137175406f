"""The activations lesson's detectors: cheap recognisers of its misconceptions in a wrong answer.

Course code shared by the exercises' public tests and the hidden suites, which import it by name
(`from activation_detectors import SOFTMAX`): the grader puts this folder on sys.path wherever
it runs them. Tests pass the detectors that fit the function under test to the comparison
helpers of grader.judge.checks, e.g. `expect_array(..., diagnose=SOFTMAX)`; the pitfalls they
name, with their hints, are defined in the course's pitfalls.toml files. Detectors are declared
with `pitfall=` so that the course check finds every id they use.

The errors student code raises are recognised here too (ERRORS): the grader asks
grader.judge.checks.diagnose_error, which tries the patterns a course registers. A hint that
names a construct (math.exp, np.max, alpha) is only given when the student's code shows it:
such patterns carry a `code` expression, and a generic pattern follows for the other cases.
"""

from __future__ import annotations

import math

import numpy as np

from grader.judge.checks import (Check, Detector, ErrorPattern, FloatArray, fmt_array, fmt_value,
                                 input_arg, main_input, recognise_errors)

# Detectors only run once an answer is already known to be wrong, so they may be loose: a match
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
    return _z(inp) / input_arg(inp, "temperature", 1.0)


def _np_max(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z = _z(inp)
    # With one entry, the largest entry is every entry: a reshaped 0-d answer looks the same.
    if z.size <= 1:
        return None
    if got.size == 1:
        value = float(got.ravel()[0])
        if math.isclose(value, float(z.max())) or math.isclose(value, max(float(z.max()), 0.0)):
            return f"relu returned {fmt_value(value)}, the largest entry of z, as one number."
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
        f"The result holds nan or inf for logits between {fmt_value(float(x.min()))} and "
        f"{fmt_value(float(x.max()))}: np.exp overflowed to inf (or every term underflowed to 0)."
    )


def _softmax_whole_array(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if got.ndim < 2 or got.shape != expected.shape or not np.isfinite(got).all():
        return None
    rows = got.sum(axis=-1)
    if math.isclose(float(got.sum()), 1.0, rel_tol=1e-6) and not np.allclose(rows, 1.0):
        return f"The whole array sums to 1, but the rows sum to {fmt_array(rows)}."
    return None


def _softmax_wrong_axis(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if got.ndim != 2 or got.shape != expected.shape or not np.isfinite(got).all():
        return None
    if np.allclose(got.sum(axis=0), 1.0) and not np.allclose(got.sum(axis=-1), 1.0):
        return "Each column sums to 1 instead of each row: the sum ran over axis 0."
    return None


def _overflow_nan(name: str, threshold: float) -> Check:
    def check(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
        z = _z(inp)
        bad = ~np.isfinite(got)
        # inf / inf is nan: an inf (1 / 1 + e^-z overflowing, say) is another mistake.
        if (got.shape != z.shape or not bad.any() or not np.isnan(got[bad]).all()
                or not np.all(np.abs(z[bad]) > threshold)):
            return None
        first = fmt_value(float(z[bad][0]))
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
    z, alpha = _z(inp), input_arg(inp, "alpha", 0.01)
    if alpha == 0.01 or got.shape != z.shape:
        return None
    if _same(got, np.where(z > 0, z, 0.01 * z)):
        return f"The result is the one for alpha = 0.01, although alpha = {alpha:g} was passed."
    return None


def _leaky_wrong_alpha(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z, alpha = _z(inp), input_arg(inp, "alpha", 0.01)
    neg, pos = z < 0, z > 0
    if got.shape != z.shape or not neg.any():
        return None
    if alpha != 0 and np.allclose(got[neg], alpha):
        return f"For z < 0 the result is alpha itself ({alpha:g}), not alpha * z."
    slopes = got[neg] / z[neg]
    if np.allclose(slopes, slopes[0]) and not math.isclose(float(slopes[0]), alpha):
        slope = fmt_value(float(slopes[0]))
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
        value = fmt_value(float(got[zero][0]))
        return f"At z = 0 the gradient came out as {value}; it should be 0."
    return None


def _temperature_multiplied(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z, temperature = _z(inp), input_arg(inp, "temperature", 1.0)
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
    Detector(pitfall="scalar_softmax", check=_scalar_softmax),
    Detector(pitfall="softmax_global_max", check=_softmax_global_max),
    Detector(pitfall="softmax_overflow", check=_softmax_overflow),
    Detector(pitfall="softmax_whole_array", check=_softmax_whole_array),
    Detector(pitfall="softmax_wrong_axis", check=_softmax_wrong_axis),
)
RELU: tuple[Detector, ...] = (Detector(pitfall="np_max", check=_np_max),)
SIGMOID: tuple[Detector, ...] = (
    Detector(pitfall="sigmoid_overflow", check=_overflow_nan("sigmoid", 700.0)),
)
TANH: tuple[Detector, ...] = (
    Detector(pitfall="tanh_overflow", check=_overflow_nan("tanh", 300.0)),
)
LEAKY_RELU: tuple[Detector, ...] = (
    Detector(pitfall="leaky_int_truncation", check=_leaky_int_truncation),
    Detector(pitfall="leaky_ignores_alpha", check=_leaky_ignores_alpha),
    Detector(pitfall="leaky_wrong_alpha", check=_leaky_wrong_alpha),
)
RELU_GRAD: tuple[Detector, ...] = (
    Detector(pitfall="relu_grad_at_zero", check=_relu_grad_at_zero),
)
TEMPERATURE: tuple[Detector, ...] = (
    Detector(pitfall="temperature_multiplied", check=_temperature_multiplied),
    *SOFTMAX,
)
ENTROPY: tuple[Detector, ...] = (
    Detector(pitfall="entropy_log_zero", check=_entropy_log_zero),
    Detector(pitfall="entropy_bits", check=_entropy_bits),
    Detector(pitfall="entropy_sign", check=_entropy_sign),
)


#: What the student's code must show for a hint that names it (matched against the function's
#: code, the module's imports and the line the error was raised at).
_NP_MAX = r"\bnp\.a?max\s*\(|\bnumpy\.a?max\s*\(|\.max\s*\("
_PYTHON_MAX = r"(?<![\w.])max\s*\("
_MATH_EXP = r"\bmath\.exp\b|from\s+math\s+import[^\n]*\bexp\b"
_MATH = r"\bmath\.\w|from\s+math\s+import"
_IF_WITH_ALPHA = r"(?s)(?=.*\balpha\b)(?=.*\bif\b)"
_AXIS_REDUCTION = r"\baxis\s*="
_AMBIGUOUS = "truth value of an array with more than one element is ambiguous"
_EMPTY_AMBIGUOUS = "truth value of an empty array is ambiguous"
_NOT_SCALAR = "arrays can be converted to Python scalars"
#: The lesson's softmaxes, which normalise over the last axis.
_SOFTMAXES = ("softmax", "softmax_temperature", "boltzmann_policy")

#: Error text of an exception raised by student code -> pitfall, optionally only for one
#: function and only for code that shows a construct. Patterns for the function called are
#: tried first, then the others, each in this order; the first match wins.
ERRORS: tuple[ErrorPattern, ...] = (
    ErrorPattern("only integer scalar arrays can be converted to a scalar index",
                 pitfall="np_max", function="relu", code=_NP_MAX),
    ErrorPattern(_AMBIGUOUS, pitfall="np_max", function="relu", code=_NP_MAX),
    ErrorPattern(_AMBIGUOUS, pitfall="if_on_array", function="leaky_relu", code=_IF_WITH_ALPHA),
    ErrorPattern("Cannot cast ufunc 'multiply' output", pitfall="leaky_int_truncation",
                 function="leaky_relu"),
    *(ErrorPattern("out of bounds for array of dimension 1", pitfall="softmax_axis_on_vector",
                   function=name) for name in _SOFTMAXES),
    ErrorPattern(_AMBIGUOUS, pitfall="python_max", code=_PYTHON_MAX),
    ErrorPattern(_EMPTY_AMBIGUOUS, pitfall="python_max", code=_PYTHON_MAX),
    ErrorPattern(_AMBIGUOUS, pitfall="branch_on_array"),
    ErrorPattern(_EMPTY_AMBIGUOUS, pitfall="branch_on_array"),
    ErrorPattern("iteration over a 0-d array", pitfall="loop_over_array"),
    ErrorPattern("len() of unsized object", pitfall="loop_over_array"),
    ErrorPattern(_NOT_SCALAR, pitfall="math_exp_on_array", code=_MATH_EXP),
    ErrorPattern("math range error", pitfall="math_exp_on_array", code=_MATH_EXP),
    ErrorPattern(_NOT_SCALAR, pitfall="math_on_array", code=_MATH),
    ErrorPattern("math range error", pitfall="math_on_array", code=_MATH),
    ErrorPattern("math domain error", pitfall="math_on_array", code=_MATH),
    ErrorPattern("out of bounds for array of dimension", pitfall="axis_out_of_bounds"),
    ErrorPattern("operands could not be broadcast together", pitfall="keepdims_broadcast",
                 code=_AXIS_REDUCTION),
    ErrorPattern("cannot call `vectorize` on size 0 inputs", pitfall="vectorize_empty"),
)
recognise_errors(*ERRORS)
