"""Detectors: cheap recognisers of the lesson's misconceptions in a wrong answer.

Tests pass the ones that fit the function under test to the comparison helpers of
grader.judge.checks, e.g. `expect_array(..., diagnose=SOFTMAX)`; the catalogue of pitfalls with
their hints lives in the course's pitfalls.toml files (grader.pitfalls).
"""

from __future__ import annotations

import math

import numpy as np

from grader.judge.checks import (Check, Detector, FloatArray, fmt_array, fmt_value, input_arg,
                                 main_input)

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
    if z.size == 0 or (z.size == 1 and float(z.max()) >= 0):
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
        if got.shape != z.shape or not bad.any() or not np.all(np.abs(z[bad]) > threshold):
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
