"""One mistaken submission per pitfall, for testing that the suites catch each misconception.

Each folder `tests/mistakes/<pitfall id>/` holds a single exercise module in which the functions
in `broken_functions` carry the mistake and every other function is correct. Graded, the
module must lose points on tests of the broken functions only, and at least one failing test
must report `pitfall`. The folder `correct/` holds all four modules written correctly in the
lesson's plain style; it must earn full marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Folder holding one sub-folder per case, plus correct/.
MISTAKES_DIR = Path(__file__).resolve().parent

#: Sub-folder with the correct submission.
CORRECT = "correct"


@dataclass(frozen=True)
class Case:
    """A mistaken module and what grading it must show."""

    module: str
    """Exercise module stem, e.g. 'activations'; the file is <folder>/<module>.py."""
    broken_functions: frozenset[str]
    """Functions that must lose points; all others in the module must keep full marks."""
    pitfall: str
    """Pitfall id at least one failing test must report."""


def _case(module: str, *broken: str, pitfall: str) -> Case:
    return Case(module, frozenset(broken), pitfall)


CASES: dict[str, Case] = {
    "np_max": _case("activations", "relu", pitfall="np_max"),
    "modifies_input": _case("activations", "relu", pitfall="modifies_input"),
    "softmax_overflow": _case("activations", "softmax", pitfall="softmax_overflow"),
    "softmax_whole_array": _case("activations", "softmax", pitfall="softmax_whole_array"),
    "softmax_wrong_axis": _case("activations", "softmax", pitfall="softmax_wrong_axis"),
    "scalar_softmax": _case("activations", "softmax", pitfall="scalar_softmax"),
    "tanh_overflow": _case("activations", "tanh", pitfall="tanh_overflow"),
    "sigmoid_overflow": _case("activations", "sigmoid", pitfall="sigmoid_overflow"),
    "math_exp_on_array": _case("activations", "sigmoid", pitfall="math_exp_on_array"),
    "leaky_int_truncation": _case("leaky_relu", "leaky_relu", pitfall="leaky_int_truncation"),
    "leaky_wrong_alpha": _case("leaky_relu", "leaky_relu", pitfall="leaky_wrong_alpha"),
    "leaky_ignores_alpha": _case("leaky_relu", "leaky_relu", pitfall="leaky_ignores_alpha"),
    "if_on_array": _case("leaky_relu", "leaky_relu", pitfall="if_on_array"),
    "relu_grad_at_zero": _case("leaky_relu", "relu_grad", pitfall="relu_grad_at_zero"),
    "softmax_global_max": _case("softmax_debug", "softmax", pitfall="softmax_global_max"),
    "temperature_multiplied": _case(
        "scaling", "softmax_temperature", pitfall="temperature_multiplied"
    ),
    "wrong_shape": _case("scaling", "softmax_temperature", pitfall="wrong_shape"),
    "entropy_log_zero": _case("scaling", "entropy", pitfall="entropy_log_zero"),
    "entropy_bits": _case("scaling", "entropy", pitfall="entropy_bits"),
    "entropy_sign": _case("scaling", "entropy", pitfall="entropy_sign"),
    "returns_scalar": _case("scaling", "entropy", pitfall="returns_scalar"),
}


from tests.mistakes.cases_extra import CASES_EXTRA  # noqa: E402 - needs Case defined above

CASES.update(CASES_EXTRA)


def folder(name: str) -> Path:
    """The submission folder of a case (or of CORRECT)."""
    return MISTAKES_DIR / name
