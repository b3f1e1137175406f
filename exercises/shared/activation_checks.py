"""The activations lesson's own checks: concept answers, the (A, c) pair of linear_collapse and
the detectors of the concepts, linear_collapse and softmax_properties exercises.

Course code, imported by name by the public tests and the hidden suites (the grader puts this
folder on sys.path wherever it runs them). The helpers follow grader.judge.checks and
grader.judge.answer_checks: they raise AssertionError with a message a student can act on, or
PitfallDetected when the wrong answer has the shape of a known misconception (defined, with its
hint, in the course's pitfalls.toml files).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from activation_detectors import SOFTMAX
from grader.judge.checks import (Detector, ErrorPattern, FloatArray, recognise_answers,
                                 recognise_errors)
from grader.judge.answer_checks import fail, normalise_answer, show_text, text_problem

#: Entropy adds up n terms p*log(p), each carrying rounding error, and the customary guard
#: log(p + 1e-12) moves the sum by about n * 1e-12 nats. A billionth of a nat is far below
#: anything that matters, so entropies are judged with this absolute floor (rtol stays 1e-6).
ENTROPY_ATOL = 1e-9

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


def mentions_zero_centred(text: str) -> bool:
    """Whether `text` says that something is zero-centred, in any accepted phrasing."""
    plain = text.lower().replace("centred", "centered").replace("centre", "center")
    plain = plain.replace("-", " ").replace("_", " ")
    plain = re.sub(r"\s+", " ", plain)
    return any(pattern.search(plain) for pattern in _ZERO_CENTRED)


def expect_answer(got: object, accepted: Sequence[str], *, what: str, inp: object = None,
                  case: str = "", pitfall: str | None = None) -> str:
    """Check a one-word concept answer; `accepted` are normalised spellings, the first one canonical.

    Case, spaces and punctuation are ignored. Raises PitfallDetected(`pitfall`) when the answer
    names another activation, AssertionError when it is no answer at all.
    """
    __tracebackhide__ = True
    expected = f"expected: {accepted[0]!r}" + (
        f" (also accepted: {', '.join(repr(a) for a in accepted[1:])})" if len(accepted) > 1 else "")
    problem = text_problem(got)
    if problem is not None:
        fail(what, problem, inp, case, [expected])
    assert isinstance(got, str)
    answer = normalise_answer(got)
    if answer in accepted:
        return answer
    if answer in ACTIVATION_NAMES:
        fail(what, f"returned {show_text(got)}, which is not the right activation here", inp,
             case, [expected], pitfall)
    known = ", ".join(sorted(set(ACTIVATION_NAMES.values())))
    fail(what, f"returned {show_text(got)}, which is not an activation's name", inp, case,
         [expected, f"answer with one name ({known}); case, spaces and punctuation are "
          "ignored"])


def expect_zero_centred_reason(got: object, *, what: str, case: str = "",
                               pitfall: str | None = None) -> str:
    """Check that a free-text answer says tanh's outputs are zero-centred."""
    __tracebackhide__ = True
    rule = ("expected: an answer that says tanh's outputs are zero-centred, e.g. 'tanh is "
            "zero-centered, sigmoid is not' (the README lists every accepted phrasing)")
    problem = text_problem(got)
    if problem is not None:
        fail(what, problem, None, case, [rule])
    assert isinstance(got, str)
    if not mentions_zero_centred(got):
        fail(what, "does not say that tanh's outputs are centred on zero", None, case,
             [f"got:      {show_text(got)}", rule], pitfall)
    return got


def expect_pair(got: object, *, what: str, inp: object, case: str = "") -> tuple[object, object]:
    """Check that `got` is a pair (A, c): a tuple or list of two items; return them."""
    __tracebackhide__ = True
    if got is None:
        fail(what, "returned None: did you forget to `return A, c`?", inp, case)
    if isinstance(got, (tuple, list)):
        if len(got) == 2:
            return got[0], got[1]
        fail(what, f"returned a {type(got).__name__} of {len(got)} items; expected the pair "
             "(A, c)", inp, case)
    fail(what, f"returned a single {type(got).__name__}; expected the pair (A, c): end with "
         "`return A, c`", inp, case)


# --- detectors ---------------------------------------------------------------------------------
# Like the ones in activation_detectors they only run on answers already known to be wrong.


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


def _relu_changes_nothing(got: FloatArray, expected: FloatArray, inp: object) -> str | None:
    if float(got) != 1.0 or float(expected) != 0.0:
        return None
    w1, b1, w2, b2, x = (_named(inp, name) for name in ("W1", "b1", "W2", "b2", "x"))
    pre = w1 @ x + b1
    cut = [int(n) for n in np.flatnonzero(pre < 0)]
    if not cut:
        return (f"Every pre-activation W1 @ x + b1 = {pre.tolist()} is >= 0 here, so ReLU "
                "changes nothing and the network gives exactly A @ x + c.")
    units = ", ".join(str(n) for n in cut)
    return (f"ReLU cuts unit(s) {units} here (W1 @ x + b1 = {pre.tolist()}), yet both networks "
            f"output {(w2 @ np.maximum(pre, 0) + b2).tolist()}: the cut units do not reach the "
            "output.")


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


COLLAPSE_A: tuple[Detector, ...] = (Detector(pitfall="collapse_order", check=_collapse_order),)
COLLAPSE_C: tuple[Detector, ...] = (Detector(pitfall="collapse_bias", check=_collapse_bias),)
SOFTMAX_BY_HAND: tuple[Detector, ...] = (
    Detector(pitfall="softmax_by_hand_not_normalised", check=_by_hand_not_normalised),
    Detector(pitfall="softmax_by_hand_rounding", check=_by_hand_rounding),
)
ACTIVATION_RANGE: tuple[Detector, ...] = (
    Detector(pitfall="range_mixup", check=_range_mixup),
    Detector(pitfall="relu_unbounded", check=_relu_unbounded),
)
LOGSUMEXP: tuple[Detector, ...] = (
    Detector(pitfall="logsumexp_overflow", check=_logsumexp_overflow),
    Detector(pitfall="logsumexp_shift_not_added_back", check=_logsumexp_shift),
)
BOLTZMANN: tuple[Detector, ...] = (
    Detector(pitfall="boltzmann_temperature_multiplied", check=_boltzmann_multiplied),
    Detector(pitfall="greedy_ties", check=_greedy_ties),
    *SOFTMAX,
)
LIPSCHITZ: tuple[Detector, ...] = (
    Detector(pitfall="lipschitz_inverse", check=_lipschitz_inverse),
)
#: Tried on every wrong yes/no of relu_breaks_collapse, whichever test asked it.
RELU_COLLAPSE: tuple[Detector, ...] = (
    Detector(pitfall="relu_piecewise_linear", check=_relu_changes_nothing),
)
recognise_answers("relu_breaks_collapse", *RELU_COLLAPSE)


#: Errors of collapse_linear's matrix algebra (see activation_detectors.ERRORS).
ERRORS: tuple[ErrorPattern, ...] = (
    ErrorPattern("mismatch in its core dimension", pitfall="collapse_order",
                 function="collapse_linear"),
    ErrorPattern("operands could not be broadcast together", pitfall="collapse_bias",
                 function="collapse_linear"),
)
recognise_errors(*ERRORS)
