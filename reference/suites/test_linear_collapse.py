"""Hidden tests for the linear_collapse exercise: collapse_linear and relu_breaks_collapse.

collapse_linear is compared with the reference on random layer shapes (rectangular, where the
wrong product order cannot even be computed, and square, where it computes the wrong matrix),
then checked the way the lesson argues: A x + c must equal the two-layer output. The inputs of
relu_breaks_collapse are small integers, so both outputs are computed exactly and "differs"
means the same with == and with np.allclose. Expected values are computed before the student's
function runs.
"""

import numpy as np
import pytest

from activation_checks import COLLAPSE_A, COLLAPSE_C, expect_pair
from grader.judge.checks import expect_array, expect_unchanged
from grader.judge.answer_checks import expect_bool

pytestmark = pytest.mark.grade(exercise="linear_collapse", visibility="hidden")

#: Sums of products in a different order than the reference's: equal to about 1e-15 relative.
RTOL, ATOL = 1e-6, 1e-9

NAMES = ("W1", "b1", "W2", "b2")


def random_layers(rng, n, h, m, scale=1.0):
    """W1: (h, n), b1: (h,), W2: (m, h), b2: (m,), normally distributed."""
    return (rng.normal(0.0, scale, size=(h, n)), rng.normal(0.0, scale, size=h),
            rng.normal(0.0, scale, size=(m, h)), rng.normal(0.0, scale, size=m))


def check_collapse(student, reference, layers, *, case, unchanged=False):
    """Compare student.collapse_linear(*layers) with the reference; return the student's (A, c)."""
    expected_a, expected_c = reference.collapse_linear(*(a.copy() for a in layers))
    before = [a.copy() for a in layers]
    inp = dict(zip(NAMES, layers))
    what = "collapse_linear(W1, b1, W2, b2)"
    got_a, got_c = expect_pair(student.collapse_linear(*layers), what=what, inp=inp, case=case)
    a = expect_array(got_a, expected_a, inp=inp, what=f"A from {what}", rtol=RTOL, atol=ATOL,
                     case=case, diagnose=COLLAPSE_A)
    c = expect_array(got_c, expected_c, inp=inp, what=f"c from {what}", rtol=RTOL, atol=ATOL,
                     case=case, diagnose=COLLAPSE_C)
    if unchanged:
        for name, now, then in zip(NAMES, layers, before):
            expect_unchanged(now, then, what=f"collapse_linear (argument {name})", case=case)
    return a, c


def two_layers(layers, x):
    W1, b1, W2, b2 = layers
    return W2 @ (W1 @ x + b1) + b2


def int_layers(rng, n, h, m):
    """Small integer layers, so every output below is computed exactly."""
    return (rng.integers(-3, 4, size=(h, n)), rng.integers(-3, 4, size=h),
            rng.integers(-3, 4, size=(m, h)), rng.integers(-3, 4, size=m))


def check_relu(student, reference, layers, x, *, case):
    expected = reference.relu_breaks_collapse(*layers, x)
    inp = {**dict(zip(NAMES, layers)), "x": x}
    return expect_bool(student.relu_breaks_collapse(*layers, x), expected,
                       what="relu_breaks_collapse(W1, b1, W2, b2, x)", inp=inp, case=case)


@pytest.mark.grade(function="collapse_linear", points=1.5, pitfall="collapse_order")
def test_collapse_rectangular_layers(student, reference, rng):
    """collapse_linear gives A of shape (m, n) and c of shape (m,) for layers of any shape"""
    shapes = [(3, 4, 2), (2, 5, 3), (4, 3, 1), (1, 2, 5), (6, 2, 4)]
    for n, h, m in shapes:
        check_collapse(student, reference, random_layers(rng, n, h, m),
                       case=f"x: {n}, hidden: {h}, out: {m}")


@pytest.mark.grade(function="collapse_linear", points=1.5, pitfall="collapse_order")
def test_collapse_square_layers(student, reference, rng):
    """with square layers the product order still matters: A = W2 @ W1"""
    check_collapse(student, reference, (np.array([[1.0, 2.0], [0.0, 1.0]]), np.zeros(2),
                                        np.array([[0.0, 1.0], [1.0, 0.0]]), np.zeros(2)),
                   case="swap after shear")
    for size in (2, 3, 5):
        check_collapse(student, reference, random_layers(rng, size, size, size),
                       case=f"random {size}x{size}")


@pytest.mark.grade(function="collapse_linear", points=1.0, pitfall="collapse_bias")
def test_collapse_bias(student, reference, rng):
    """the first bias reaches the output through the second layer: c = W2 @ b1 + b2"""
    check_collapse(student, reference, (np.eye(2), np.array([1.0, -1.0]),
                                        np.array([[2.0, 0.0], [1.0, 3.0]]), np.array([0.5, 0.5])),
                   case="W1 = I")
    check_collapse(student, reference, (np.array([[1.0, 0.0, 2.0]]), np.array([3.0]),
                                        np.array([[2.0], [-1.0]]), np.zeros(2)),
                   case="b2 = 0, one hidden unit")
    for n, h, m in [(3, 3, 3), (2, 4, 4), (4, 2, 3)]:
        check_collapse(student, reference, random_layers(rng, n, h, m),
                       case=f"x: {n}, hidden: {h}, out: {m}")


@pytest.mark.grade(function="collapse_linear", points=1.0, pitfall="collapse_bias")
def test_collapse_matches_two_layers(student, reference, rng):
    """A @ x + c equals W2 @ (W1 @ x + b1) + b2 for random x: the two layers are one"""
    for n, h, m in [(4, 6, 3), (3, 3, 3), (5, 2, 2)]:
        layers = random_layers(rng, n, h, m, scale=2.0)
        case = f"x: {n}, hidden: {h}, out: {m}"
        a, c = check_collapse(student, reference, layers, case=case)
        for k in range(3):
            x = rng.normal(0.0, 3.0, size=n)
            expect_array(a @ x + c, two_layers(layers, x), inp={**dict(zip(NAMES, layers)), "x": x},
                         what="A @ x + c vs W2 @ (W1 @ x + b1) + b2", rtol=RTOL, atol=ATOL,
                         case=f"{case}, random x #{k}")


@pytest.mark.grade(function="collapse_linear", points=0.5)
def test_three_layers_collapse(student, reference, rng):
    """collapsing twice turns three linear layers into one A x + c"""
    W1, b1, W2, b2 = random_layers(rng, 3, 5, 4)
    W3, b3 = rng.normal(size=(2, 4)), rng.normal(size=2)
    a12, c12 = check_collapse(student, reference, (W1, b1, W2, b2), case="layers 1 and 2")
    a, c = check_collapse(student, reference, (a12, c12, W3, b3), case="then layer 3")
    for k in range(3):
        x = rng.normal(0.0, 2.0, size=3)
        three = W3 @ (W2 @ (W1 @ x + b1) + b2) + b3
        expect_array(a @ x + c, three, inp={"x": x}, what="A @ x + c vs the three-layer output",
                     rtol=RTOL, atol=ATOL, case=f"random x #{k}")


@pytest.mark.grade(function="collapse_linear", points=0.5, pitfall="modifies_input")
def test_collapse_integer_layers_unchanged(student, reference, rng):
    """collapse_linear accepts integer layers and leaves its arguments unchanged"""
    check_collapse(student, reference, int_layers(rng, 3, 4, 2), case="integer layers",
                   unchanged=True)
    check_collapse(student, reference, random_layers(rng, 2, 3, 3), case="float layers",
                   unchanged=True)


@pytest.mark.grade(function="relu_breaks_collapse", points=1.0)
def test_relu_breaks_collapse_when_a_unit_is_cut(student, reference, rng):
    """a unit with a negative pre-activation that the output uses makes the outputs differ"""
    W1 = np.array([[1, -1], [2, 1]])
    b1 = np.array([0, -5])
    W2 = np.array([[1, 1]])
    b2 = np.array([0])
    check_relu(student, reference, (W1, b1, W2, b2), np.array([1, 1]), case="second unit cut")
    check_relu(student, reference, (np.array([[1], [-1]]), np.array([0, 0]),
                                     np.array([[1, 1]]), np.array([2])), np.array([3]),
               case="|x| network at x = 3")
    found = 0
    while found < 4:
        layers = int_layers(rng, 3, 4, 2)
        x = rng.integers(-3, 4, size=3)
        if reference.relu_breaks_collapse(*layers, x):
            found += 1
            check_relu(student, reference, layers, x, case=f"random integers #{found}")


@pytest.mark.grade(function="relu_breaks_collapse", points=1.0, pitfall="relu_piecewise_linear")
def test_relu_agrees_with_collapse_sometimes(student, reference, rng):
    """where ReLU cuts nothing the output uses, the ReLU network gives exactly A x + c"""
    W1 = np.array([[1, 2], [-1, 1], [0, 3]])
    b1 = np.array([1, 1, 0])
    W2 = np.array([[1, -1, 2], [0, 1, 1]])
    b2 = np.array([-1, 4])
    check_relu(student, reference, (W1, b1, W2, b2), np.array([1, 2]),
               case="every pre-activation positive")
    check_relu(student, reference, (W1, np.array([1, -10, 0]), np.array([[1, 0, 2], [2, 0, 1]]),
                                    b2), np.array([1, 2]),
               case="the cut unit has weight 0 in W2")
    check_relu(student, reference, (np.array([[1], [-1]]), np.array([0, 0]),
                                    np.array([[1, 1]]), np.array([2])), np.array([0]),
               case="|x| network at x = 0")
    found = 0
    while found < 3:
        layers = int_layers(rng, 2, 3, 2)
        x = rng.integers(-3, 4, size=2)
        if not reference.relu_breaks_collapse(*layers, x):
            found += 1
            check_relu(student, reference, layers, x, case=f"random integers #{found}")
