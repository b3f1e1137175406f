"""Public checks for linear_collapse.py: the lesson's algebra on small examples.

Run them with `pytest` in this folder. Grading adds hidden tests with more layer shapes (square
and rectangular, integer layers, three layers collapsed in two steps) and more inputs for
relu_breaks_collapse.
"""

import numpy as np
import pytest

from activation_checks import COLLAPSE_A, COLLAPSE_C, expect_pair
from grader.judge.checks import expect_array
from grader.judge.answer_checks import expect_bool

pytestmark = pytest.mark.grade(exercise="linear_collapse", visibility="visible")

WHAT = "collapse_linear(W1, b1, W2, b2)"


def layers_inp(W1, b1, W2, b2):
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


@pytest.mark.grade(function="collapse_linear", points=0.75, pitfall="collapse_order")
def test_collapse_small_example(student):
    """two 2x2 layers collapse to A = W2 @ W1 and c = W2 @ b1 + b2"""
    W1, b1 = np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([1.0, 0.0])
    W2, b2 = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0.0, 1.0])
    inp = layers_inp(W1, b1, W2, b2)
    A, c = expect_pair(student.collapse_linear(W1, b1, W2, b2), what=WHAT, inp=inp)
    expect_array(A, [[0.0, 1.0], [1.0, 2.0]], inp=inp, what=f"A from {WHAT}", diagnose=COLLAPSE_A)
    expect_array(c, [0.0, 2.0], inp=inp, what=f"c from {WHAT}", diagnose=COLLAPSE_C)


@pytest.mark.grade(function="collapse_linear", points=0.75, pitfall="collapse_bias")
def test_collapse_matches_two_layers(student, rng):
    """A @ x + c equals W2 @ (W1 @ x + b1) + b2 for layers of shapes (4, 3) and (2, 4)"""
    W1, b1 = rng.normal(size=(4, 3)), rng.normal(size=4)
    W2, b2 = rng.normal(size=(2, 4)), rng.normal(size=2)
    inp = layers_inp(W1, b1, W2, b2)
    A, c = expect_pair(student.collapse_linear(W1, b1, W2, b2), what=WHAT, inp=inp)
    A = expect_array(A, W2 @ W1, inp=inp, what=f"A from {WHAT}", atol=1e-9, diagnose=COLLAPSE_A)
    c = expect_array(c, W2 @ b1 + b2, inp=inp, what=f"c from {WHAT}", atol=1e-9,
                     diagnose=COLLAPSE_C)
    x = rng.normal(size=3)
    expect_array(A @ x + c, W2 @ (W1 @ x + b1) + b2, inp={**inp, "x": x},
                 what="A @ x + c vs W2 @ (W1 @ x + b1) + b2", atol=1e-9)


@pytest.mark.grade(function="relu_breaks_collapse", points=0.5, pitfall="relu_piecewise_linear")
def test_relu_breaks_collapse(student):
    """ReLU changes the output only where it cuts a unit the output uses"""
    W1, b1 = np.array([[1], [-1]]), np.array([0, 0])
    W2, b2 = np.array([[1, 1]]), np.array([2])
    what = "relu_breaks_collapse(W1, b1, W2, b2, x)"
    # With these layers the ReLU network computes |x| + 2; without ReLU it computes 2.
    for x, expected in ((np.array([3]), True), (np.array([0]), False)):
        inp = {**layers_inp(W1, b1, W2, b2), "x": x}
        expect_bool(student.relu_breaks_collapse(W1, b1, W2, b2, x), expected, what=what, inp=inp,
                    case=f"x = {x[0]}")
