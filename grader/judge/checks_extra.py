"""Comparison helpers and detectors for the concepts, linear_collapse and softmax_properties
exercises.

They follow grader.judge.checks: every helper raises AssertionError with a message a student can
act on (which call, on which input, what was expected and what came back), or PitfallDetected
when the wrong answer has the shape of a known misconception (catalogue entries in the course's
pitfalls.toml files). Answers arrive as plain data: strings for concept answers, tuples or lists
for pairs and triples, NumPy arrays and numbers for everything else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import NoReturn

import numpy as np

from grader.judge.checks import Detector, FloatArray, describe, expect_array
from grader.judge.detectors import SOFTMAX
from grader.judge.errors import PitfallDetected

#: Concept answers are compared after dropping case, spaces and punctuation: 'ReLU', ' relu ',
#: 'Re-LU' and 'relu.' all read 'relu'.
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

#: The names a concept answer may use, normalised, with the activation each one means.
ACTIVATION_NAMES: dict[str, str] = {
    "relu": "relu",
    "sigmoid": "sigmoid",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "linear": "linear",
    "none": "linear",
    "identity": "linear",
    "noactivation": "linear",
}

#: Phrasings that say tanh's outputs are centred on zero (see exercises/concepts/README.md).
#: They are matched after lower-casing, spelling 'centre' as 'center' and turning hyphens and
#: underscores into spaces. A zero must not be the start of a decimal such as 0.5.
_ZERO = r"(?:zero|0(?![.,]?\d))"
_ZERO_CENTRED = (
    re.compile(rf"\b{_ZERO}\s*centered\b"),
    re.compile(rf"\bcentered\s+(?:at|on|around|round|about)\s+(?:the\s+)?(?:{_ZERO}|origin)\b"),
    re.compile(rf"\b{_ZERO}\s*mean\b"),
    re.compile(rf"\bmean\s+(?:of\s+|is\s+|at\s+|near\s+|around\s+|close\s+to\s+)?{_ZERO}\b"),
    re.compile(rf"\bsymmetric\s+(?:about|around|at|on)\s+(?:{_ZERO}|the\s+origin)\b"),
)

#: Concept answers are shown in messages up to this many characters.
_SHOW_TEXT = 200


def normalise_answer(text: str) -> str:
    """A one-word answer as compared: lower case, with spaces and punctuation dropped."""
    return _NOT_ALNUM.sub("", text.lower())


def mentions_zero_centred(text: str) -> bool:
    """Whether `text` says that something is zero-centred, in any accepted phrasing."""
    plain = text.lower().replace("centred", "centered").replace("centre", "center")
    plain = plain.replace("-", " ").replace("_", " ")
    plain = re.sub(r"\s+", " ", plain)
    return any(pattern.search(plain) for pattern in _ZERO_CENTRED)


def _raise(what: str, problem: str, inp: object, case: str, details: Sequence[str] = (),
           pitfall: str | None = None) -> NoReturn:
    __tracebackhide__ = True
    prefix = f"[{case}] " if case else ""
    lines = [f"{prefix}{what} {problem}"]
    if inp is not None and not (isinstance(inp, Mapping) and not inp):
        lines.append(f"  input:    {describe(inp)}")
    lines.extend(f"  {line}" for line in details)
    message = "\n".join(lines)
    if pitfall is not None:
        raise PitfallDetected(pitfall, message)
    raise AssertionError(message)


def _show(text: str) -> str:
    return repr(text if len(text) <= _SHOW_TEXT else text[:_SHOW_TEXT] + "...")


def _text_problem(got: object) -> str | None:
    if got is None:
        return "returned None: did you forget to `return` the answer?"
    if not isinstance(got, str):
        return f"returned {got!r} ({type(got).__name__}); answer with a string"
    if not got.strip():
        return "returned an empty string"
    return None


def expect_answer(got: object, accepted: Sequence[str], *, what: str, inp: object = None,
                  case: str = "", pitfall: str | None = None) -> str:
    """Check a one-word concept answer; `accepted` are normalised spellings, the first one canonical.

    Case, spaces and punctuation are ignored. Raises PitfallDetected(`pitfall`) when the answer
    names another activation, AssertionError when it is no answer at all.
    """
    __tracebackhide__ = True
    expected = f"expected: {accepted[0]!r}" + (
        f" (also accepted: {', '.join(repr(a) for a in accepted[1:])})" if len(accepted) > 1 else "")
    problem = _text_problem(got)
    if problem is not None:
        _raise(what, problem, inp, case, [expected])
    assert isinstance(got, str)
    answer = normalise_answer(got)
    if answer in accepted:
        return answer
    if answer in ACTIVATION_NAMES:
        _raise(what, f"returned {_show(got)}, which is not the right activation here", inp,
               case, [expected], pitfall)
    known = ", ".join(sorted(set(ACTIVATION_NAMES.values())))
    _raise(what, f"returned {_show(got)}, which is not an activation's name", inp, case,
           [expected, f"answer with one name ({known}); case, spaces and punctuation are "
            "ignored"])


def expect_zero_centred_reason(got: object, *, what: str, case: str = "",
                               pitfall: str | None = None) -> str:
    """Check that a free-text answer says tanh's outputs are zero-centred."""
    __tracebackhide__ = True
    rule = ("expected: an answer that says tanh's outputs are zero-centred, e.g. 'tanh is "
            "zero-centered, sigmoid is not' (the README lists every accepted phrasing)")
    problem = _text_problem(got)
    if problem is not None:
        _raise(what, problem, None, case, [rule])
    assert isinstance(got, str)
    if not mentions_zero_centred(got):
        _raise(what, "does not say that tanh's outputs are centred on zero", None, case,
               [f"got:      {_show(got)}", rule], pitfall)
    return got


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
        _raise(what, problem, inp, case, details)
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
    _raise(what, f"returned {shown}; expected a single number", inp, case)


def expect_pair(got: object, *, what: str, inp: object, case: str = "") -> tuple[object, object]:
    """Check that `got` is a pair (A, c): a tuple or list of two items; return them."""
    __tracebackhide__ = True
    if got is None:
        _raise(what, "returned None: did you forget to `return A, c`?", inp, case)
    if isinstance(got, (tuple, list)):
        if len(got) == 2:
            return got[0], got[1]
        _raise(what, f"returned a {type(got).__name__} of {len(got)} items; expected the pair "
               "(A, c)", inp, case)
    _raise(what, f"returned a single {type(got).__name__}; expected the pair (A, c): end with "
           "`return A, c`", inp, case)


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
        _raise(what, f"returned {shown}; expected True or False", inp, case,
               [f"expected: {expected}"] + (
                   ["an array of comparisons needs np.any(...) or np.allclose(...) to become "
                    "one answer"] if isinstance(got, np.ndarray) else []))
    if value != expected:
        _raise(what, f"returned {value}; expected {expected}", inp, case)
    return value


# --- detectors ---------------------------------------------------------------------------------
# Like the ones in grader.judge.checks they only run on answers already known to be wrong.


def _same(a: FloatArray, b: FloatArray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-9))


def _named(inp: object, name: str) -> FloatArray:
    if not isinstance(inp, Mapping) or name not in inp:
        raise KeyError(name)
    return np.asarray(inp[name], dtype=np.float64)


def _number(inp: object, name: str) -> float:
    if not isinstance(inp, Mapping) or name not in inp:
        raise KeyError(name)
    return float(inp[name])


def _text(inp: object, name: str) -> str:
    if not isinstance(inp, Mapping) or not isinstance(inp.get(name), str):
        raise KeyError(name)
    return str(inp[name])


def _stable_softmax(logits: FloatArray) -> FloatArray:
    e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    result: FloatArray = e / np.sum(e, axis=-1, keepdims=True)
    return result


def _collapse_order(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    w1, w2 = _named(inp, "W1"), _named(inp, "W2")
    if w1.shape[1] == w2.shape[0] and _same(got, w1 @ w2):
        return ("A equals W1 @ W2: the products were taken in the wrong order. W1 acts on x "
                "first, so it stands next to x: A = W2 @ W1.")
    return None


def _collapse_bias(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    b1, b2 = _named(inp, "b1"), _named(inp, "b2")
    # b1 + b2 only fits when the hidden and output sizes agree (or one of them is 1).
    fits = b1.shape == b2.shape or 1 in (b1.size, b2.size)
    if fits and _same(got, b1 + b2):
        return ("c equals b1 + b2: b1 was added without passing through the second layer. "
                "The first layer's output W1 x + b1 is multiplied by W2 as a whole, so b1 "
                "arrives as W2 @ b1.")
    if _same(got, b2) and bool(np.any(np.asarray(expected) != b2)):
        return "c equals b2: the first bias b1 (as W2 @ b1) is missing."
    return None


def _by_hand_not_normalised(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    total = float(np.sum(got))
    if got.shape == expected.shape and abs(total - 1.0) > 1e-2:
        hint = " They are e^1, e^2 and e^3 themselves." if _same(
            got, np.exp(np.array([1.0, 2.0, 3.0]))) else ""
        return f"The three numbers sum to {total:.4g}, not 1.{hint}"
    return None


def _by_hand_rounding(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if got.shape == expected.shape and bool(np.all(np.abs(got - expected) <= 0.006)):
        worst = float(np.max(np.abs(got - expected)))
        return (f"The numbers are right to about two decimals but off by up to {worst:.4f}: "
                "they were rounded too early or too coarsely.")
    return None


def _range_mixup(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    name = _text(inp, "name")
    swapped = {"sigmoid": (-1.0, 1.0), "tanh": (0.0, 1.0)}.get(name)
    if swapped is not None and got.shape == (2,) and _same(got, np.asarray(swapped)):
        other = "tanh" if name == "sigmoid" else "sigmoid"
        return f"{swapped} is the range of {other}, not of {name}."
    return None


def _relu_unbounded(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if _text(inp, "name") == "relu" and got.shape == (2,) and math.isfinite(float(got[1])):
        return (f"The upper end came out as {float(got[1]):.6g}, a finite number; ReLU keeps "
                "every positive z, however large.")
    return None


def _logsumexp_overflow(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z = _named(inp, "z")
    if np.isfinite(got).all() or float(np.max(np.abs(z), initial=0.0)) < 700:
        return None
    return (f"The result holds inf or nan for z between {float(z.min()):.6g} and "
            f"{float(z.max()):.6g}: np.exp overflowed to inf (or every term underflowed to 0 "
            "and log(0) gave -inf).")


def _logsumexp_shift(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    z = _named(inp, "z")
    peak = np.max(z, axis=-1)
    if bool(np.any(peak != 0)) and _same(got, expected - peak):
        return ("The result is log(sum(exp(z - max(z)))): the maximum was subtracted inside "
                "the exponential but not added back afterwards.")
    return None


def _boltzmann_multiplied(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    q, temperature = _named(inp, "q_values"), _number(inp, "temperature")
    if temperature == 1.0 or got.shape != q.shape:
        return None
    if _same(got, _stable_softmax(q * temperature)):
        return (f"The result equals softmax(q * {temperature:g}): the Q-values were multiplied "
                "by the temperature instead of divided by it.")
    return None


def _greedy_ties(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if got.shape != expected.shape or got.size == 0:
        return None
    one_hot = bool(np.all((got == 0.0) | (got == 1.0))) and bool(
        np.all(np.sum(got, axis=-1) == 1.0))
    if not one_hot:
        return None
    rows = np.atleast_2d(expected)
    tied = [n for n, row in enumerate(rows)
            if int(np.sum(np.isclose(row, np.max(row), rtol=1e-9, atol=1e-12))) > 1]
    if tied:
        return ("The policy is an exact one-hot argmax, which gives all the probability to one "
                f"of several best actions (row {tied[0]} has a tie); the limit splits it evenly.")
    return ("The policy is an exact one-hot argmax; at this temperature the other actions still "
            "have some probability.")


def _lipschitz_inverse(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    lam = _number(inp, "inverse_temperature")
    if lam not in (0.0, 1.0) and got.size == 1 and math.isclose(float(got), 1.0 / lam,
                                                                 rel_tol=1e-6):
        return (f"The bound came out as 1/λ = {1.0 / lam:.6g}; for λ = {lam:g} the paper's "
                f"constant is λ = {lam:g}.")
    return None


COLLAPSE_A: tuple[Detector, ...] = (Detector("collapse_order", _collapse_order),)
COLLAPSE_C: tuple[Detector, ...] = (Detector("collapse_bias", _collapse_bias),)
SOFTMAX_BY_HAND: tuple[Detector, ...] = (
    Detector("softmax_by_hand_not_normalised", _by_hand_not_normalised),
    Detector("softmax_by_hand_rounding", _by_hand_rounding),
)
ACTIVATION_RANGE: tuple[Detector, ...] = (
    Detector("range_mixup", _range_mixup),
    Detector("relu_unbounded", _relu_unbounded),
)
LOGSUMEXP: tuple[Detector, ...] = (
    Detector("logsumexp_overflow", _logsumexp_overflow),
    Detector("logsumexp_shift_not_added_back", _logsumexp_shift),
)
BOLTZMANN: tuple[Detector, ...] = (
    Detector("boltzmann_temperature_multiplied", _boltzmann_multiplied),
    Detector("greedy_ties", _greedy_ties),
    *SOFTMAX,
)
LIPSCHITZ: tuple[Detector, ...] = (Detector("lipschitz_inverse", _lipschitz_inverse),)
