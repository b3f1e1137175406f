"""The pitfall catalogue: misconceptions the suites know how to recognise, and how to fix them.

A test names the pitfall it is designed to catch in its `grade` marker; a check that recognises
the misconception from the student's answer raises `PitfallDetected` with the same id. Either way
the feedback page shows the misconception and the hint below, so the wording is written for
students and follows the lesson's own vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pitfall:
    """One known misconception."""

    id: str
    """Stable identifier used in markers, exceptions and results.json."""
    misconception: str
    """One sentence naming the misconception in the lesson's words."""
    hint: str
    """What to change, as the professor would put it."""


_CATALOGUE: tuple[Pitfall, ...] = (
    Pitfall(
        "np_max",
        "np.max returns one number; ReLU needs np.maximum, which works element by element.",
        "Write relu as np.maximum(0, z): it compares every entry of z with 0 and keeps the "
        "shape of z. np.max(z) (or np.max(z, 0)) collapses the array to its largest value.",
    ),
    Pitfall(
        "softmax_overflow",
        "np.exp overflows to inf for large logits (e.g. z = 1000), so the plain softmax "
        "formula gives nan.",
        "Subtract the maximum before exponentiating: exp_z = np.exp(z - np.max(z, axis=-1, "
        "keepdims=True)). Softmax does not change when you shift all logits by the same "
        "amount, so the result is the same, only finite.",
    ),
    Pitfall(
        "softmax_global_max",
        "Subtracting the maximum of the whole batch is not enough: each row needs its own "
        "maximum, or rows far below the batch maximum underflow to 0/0.",
        "Take the maximum along the last axis with keepdims=True: "
        "np.max(z, axis=-1, keepdims=True), so every row is shifted by its own largest logit.",
    ),
    Pitfall(
        "softmax_whole_array",
        "For a batch (2-D z) each row is one example, so each row must sum to 1, not the "
        "whole array.",
        "Sum along the last axis and keep the dimension for broadcasting: "
        "exp_z / np.sum(exp_z, axis=-1, keepdims=True).",
    ),
    Pitfall(
        "softmax_wrong_axis",
        "Softmax normalises over the classes of one example, which is the last axis (each "
        "row), not down the columns.",
        "Use axis=-1 (not axis=0) in both np.max and np.sum, with keepdims=True.",
    ),
    Pitfall(
        "scalar_softmax",
        "Softmax is defined for a vector: applied to a single number it always returns 1.0, "
        "which is trivially correct but useless.",
        "Apply softmax to the whole vector at once: exponentiate every entry, then divide by "
        "the sum of all of them. Do not loop over the entries one by one.",
    ),
    Pitfall(
        "sigmoid_overflow",
        "Written as e^z / (1 + e^z), sigmoid divides inf by inf for large z and gives nan.",
        "Use the lesson's form 1 / (1 + np.exp(-z)): for large z it tends to 1 and for very "
        "negative z to 0, both finite (NumPy may warn about the overflow; the value is right).",
    ),
    Pitfall(
        "tanh_overflow",
        "The formula (e^z - e^-z) / (e^z + e^-z) divides inf by inf once |z| is larger than "
        "about 710, so tanh comes out as nan.",
        "Use the formula to understand tanh, then call np.tanh(z), which stays exact for any z.",
    ),
    Pitfall(
        "math_exp_on_array",
        "math.exp works on one Python number at a time; on a NumPy array you need np.exp, "
        "which works element by element.",
        "Replace math.exp with np.exp (and math.tanh with np.tanh, and so on). "
        "NumPy's functions accept whole arrays of any shape.",
    ),
    Pitfall(
        "if_on_array",
        "An if statement asks one yes/no question; z > 0 on an array gives one answer per "
        "entry, so Python cannot decide.",
        "Choose element by element with np.where(z > 0, z, alpha * z) instead of an if/else.",
    ),
    Pitfall(
        "modifies_input",
        "The function changed the caller's array z in place instead of returning a new array.",
        "Build the result as a new array (np.maximum, np.where and arithmetic on z all return "
        "new arrays). If you must assign into an array, start from z.copy().",
    ),
    Pitfall(
        "leaky_int_truncation",
        "Writing 0.01 * z back into an integer array truncates the small negative values to 0.",
        "Compute the result as floats, for example np.where(z > 0, z, alpha * z), instead of "
        "assigning into a copy of an integer z.",
    ),
    Pitfall(
        "leaky_wrong_alpha",
        "Leaky ReLU is z for z > 0 and alpha times z otherwise, with alpha = 0.01 by default.",
        "Multiply the negative entries by alpha (alpha * z, not alpha on its own), and keep "
        "the default alpha=0.01 from the lesson.",
    ),
    Pitfall(
        "leaky_ignores_alpha",
        "The slope for negative z is hard-coded, so passing a different alpha changes nothing.",
        "Use the parameter: np.where(z > 0, z, alpha * z), not a fixed 0.01.",
    ),
    Pitfall(
        "relu_grad_at_zero",
        "The ReLU gradient is 1 where z > 0 and 0 otherwise, so it is 0 at z = 0.",
        "Use a strict comparison: (z > 0).astype(float), not z >= 0.",
    ),
    Pitfall(
        "temperature_multiplied",
        "Temperature divides the logits: softmax(z / T). Multiplying by T does the opposite "
        "(a small T should make the distribution peakier, not flatter).",
        "Compute softmax(z / temperature), with the max-shift so a small temperature stays finite.",
    ),
    Pitfall(
        "entropy_log_zero",
        "np.log(0) is -inf and 0 * -inf is nan; entropy treats 0 * log 0 as 0.",
        "Leave out the zero probabilities, e.g. with np.where(p > 0, p * np.log(np.where(p > 0, "
        "p, 1.0)), 0.0), rather than adding a small number inside the log.",
    ),
    Pitfall(
        "entropy_bits",
        "Entropy here is measured in nats, with the natural logarithm np.log, not log2 (bits) "
        "or log10.",
        "Use np.log. Entropy in bits is the entropy in nats divided by ln 2.",
    ),
    Pitfall(
        "entropy_sign",
        "Entropy is minus the sum of p log p; since log p <= 0 the result is never negative.",
        "Put the minus sign in front: -np.sum(p * np.log(p)) (with zeros left out).",
    ),
    Pitfall(
        "not_implemented",
        "The function is still the handout's stub and raises NotImplementedError.",
        "Replace the `raise NotImplementedError` line with your implementation, then run the "
        "public checks with pytest in the exercise folder.",
    ),
    Pitfall(
        "returns_scalar",
        "The function returned a single number where an array with one value per input "
        "entry is due.",
        "Use NumPy operations that keep the shape of z (np.maximum, np.exp, arithmetic on the "
        "array); for a batch, reduce along axis=-1 only.",
    ),
    Pitfall(
        "wrong_shape",
        "The result must have the shape the task asks for: the shape of z for element-wise "
        "functions and softmax, one value per row for a batch entropy.",
        "Check result.shape against z.shape; avoid reshaping, np.atleast_2d or keepdims on the "
        "final result.",
    ),
)

PITFALLS: dict[str, Pitfall] = {p.id: p for p in _CATALOGUE}


def lookup(pitfall_id: str) -> Pitfall | None:
    """The catalogue entry for `pitfall_id`, or None for an unknown id."""
    return PITFALLS.get(pitfall_id)


# The extra exercises' pitfalls live in their own module to keep this one readable.
from grader.judge.hints_extra import PITFALLS_EXTRA  # noqa: E402 - needs Pitfall defined above

PITFALLS.update(PITFALLS_EXTRA)
