"""What a wrong answer has in common with the expected one, said in one sentence.

When no detector recognises a misconception, the feedback says what was observed instead of
guessing one: "Your values are the expected ones mirrored: each is 1 - expected.", "The rows do
not sum to 1 (sums 2, 2).", "The result holds nan where the inputs are large (|input| >= 1000
there).". Every check compares arrays only: none knows what the function under test computes.

Each sentence also comes without its values in parentheses, for hidden tests, which never show
the values of their inputs and answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


class Seen(NamedTuple):
    """One observation, with and without the values it quotes."""

    text: str
    """The sentence, values included."""
    plain: str
    """The sentence without the values read from the inputs and answers."""


def _said(sentence: str, values: str = "") -> Seen:
    return Seen(f"{sentence} ({values})." if values else f"{sentence}.", f"{sentence}.")


Observation = Callable[[FloatArray, FloatArray, FloatArray | None], "Seen | None"]

#: Two values this close count as the same when relating an answer to the expected one: far
#: looser than the tests' tolerance, as a relation found must hold for every entry anyway.
_RTOL, _ATOL = 1e-6, 1e-9

#: Inputs at least this large in size are "large": e^50 is already 5e21.
_LARGE = 50.0

#: Most sums a sentence lists.
_SHOW_SUMS = 4


def observe(got: FloatArray, expected: FloatArray, inp: object) -> Seen:
    """One sentence on how `got` relates to `expected` (and the input); empty when nothing
    simple relates them."""
    x = _input(inp)
    with np.errstate(all="ignore"):
        for check in _CHECKS:
            try:
                found = check(got, expected, x)
            except (ValueError, TypeError, IndexError, FloatingPointError):
                found = None  # an odd answer must not cost the plain message
            if found:
                return found
    return Seen("", "")


def _input(inp: object) -> FloatArray | None:
    value = inp
    if isinstance(inp, Mapping):
        value = next((v for v in inp.values() if isinstance(v, np.ndarray)), None)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    return None


def _num(value: float) -> str:
    return f"{value:.4g}"


def _same(a: FloatArray, b: FloatArray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=_RTOL, atol=_ATOL))


def _comparable(got: FloatArray, expected: FloatArray) -> bool:
    return (got.shape == expected.shape and got.size > 0 and bool(np.isfinite(got).all())
            and bool(np.isfinite(expected).all()))


def _shape(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if got.shape == expected.shape:
        return None
    if x is not None and x.ndim == 0 and expected.ndim == 0:
        return _said(f"Returned shape {got.shape} for a 0-d input, which must give a 0-d result")
    if got.size == expected.size and got.size > 0 and np.allclose(
            got.ravel(), expected.ravel(), rtol=_RTOL, atol=_ATOL, equal_nan=True):
        return _said(f"The values are the expected ones, but in shape {got.shape} instead of "
                     f"{expected.shape}")
    if got.ndim == expected.ndim == 2 and got.shape == expected.shape[::-1]:
        return _said(f"Returned shape {got.shape}: the expected shape {expected.shape} transposed")
    return None


def _not_finite(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if got.shape != expected.shape:
        return None
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if not bad.any():
        return None
    word = "nan" if np.isnan(got[bad]).all() else ("inf" if np.isinf(got[bad]).all()
                                                  else "nan and inf")
    if x is None or x.shape != got.shape:
        return None
    size = np.abs(x[bad])
    if float(size.min()) >= _LARGE:
        return _said(f"The result holds {word} where the inputs are large",
                     f"|input| >= {_num(float(size.min()))} there")
    if (x[bad] == 0).all():
        return _said(f"The result holds {word} exactly where the input is 0")
    return None


def _mirrored(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if _comparable(got, expected) and not _same(expected, 1.0 - expected) and _same(
            got, 1.0 - expected):
        return _said("Your values are the expected ones mirrored: each is 1 - expected")
    return None


def _negated(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if _comparable(got, expected) and np.any(expected != 0) and _same(got, -expected):
        return _said("Your values are the expected ones with the opposite sign: each is -expected")
    return None


def _reciprocal(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if (_comparable(got, expected) and np.all(expected != 0) and not _same(expected, 1.0 / expected)
            and _same(got, 1.0 / expected)):
        return _said("Each of your values is 1 / expected: the expected value turned upside down")
    return None


def _factor(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if not _comparable(got, expected):
        return None
    nonzero = np.abs(expected) > _ATOL
    if not nonzero.any():
        return None
    factor = float(np.median(got[nonzero] / expected[nonzero]))
    if factor in (0.0, 1.0) or not np.isfinite(factor) or not _same(got, factor * expected):
        return None
    return _said(f"Off by a constant factor of {_num(factor)}: each value is {_num(factor)} x "
                 "expected")


def _offset(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if not _comparable(got, expected):
        return None
    shift = float(np.median(got - expected))
    if shift == 0.0 or not _same(got, expected + shift):
        return None
    sign = "+" if shift > 0 else "-"
    return _said(f"Off by a constant {_num(shift)}: each value is expected {sign} "
                 f"{_num(abs(shift))}")


def _sums(values: FloatArray) -> str:
    shown = ", ".join(_num(float(v)) for v in values.ravel()[:_SHOW_SUMS])
    return shown + (", ..." if values.size > _SHOW_SUMS else "")


def _distribution(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if not _comparable(got, expected) or expected.ndim == 0 or np.any(expected < 0):
        return None
    rows, wanted = got.sum(axis=-1), expected.sum(axis=-1)
    if not np.allclose(wanted, 1.0) or np.allclose(rows, 1.0):
        return None
    if got.ndim == 1:
        return _said("The values do not sum to 1", f"their sum is {_num(float(rows))}")
    if np.allclose(got.sum(axis=0), 1.0):
        return _said("Wrong axis: the columns sum to 1, the rows do not",
                     f"row sums {_sums(rows)}")
    if np.isclose(float(got.sum()), 1.0):
        return _said("The whole array sums to 1, the rows do not", f"row sums {_sums(rows)}")
    return _said("The rows do not sum to 1", f"sums {_sums(rows)}")


def _only_where(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if x is None or x.shape != got.shape or not _comparable(got, expected):
        return None
    differs = ~np.isclose(got, expected, rtol=_RTOL, atol=_ATOL)
    if not differs.any() or differs.all():
        return None
    for where, name in ((x < 0, "negative"), (x == 0, "0"), (x > 0, "positive")):
        if np.array_equal(differs, where):
            return _said(f"Only the entries where the input is {name} are wrong; the others "
                         "are right")
    return None


def _range(got: FloatArray, expected: FloatArray, x: FloatArray | None) -> Seen | None:
    if not _comparable(got, expected) or expected.size < 2:
        return None
    low, high = float(expected.min()), float(expected.max())
    # Only far outside: a few wrong values near the edge of the range say nothing.
    margin = 0.5 * (high - low) + 1e-6
    if float(got.min()) >= low - margin and float(got.max()) <= high + margin:
        return None
    return _said("Your values leave the range of the expected ones",
                 f"yours run from {_num(float(got.min()))} to {_num(float(got.max()))}, the "
                 f"expected ones lie between {_num(low)} and {_num(high)}")


_CHECKS: tuple[Observation, ...] = (_shape, _not_finite, _mirrored, _negated, _reciprocal,
                                     _factor, _offset, _distribution, _only_where, _range)
