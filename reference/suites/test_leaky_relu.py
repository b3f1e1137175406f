"""Hidden tests for the leaky_relu exercise: leaky_relu(z, alpha=0.01) and relu_grad(z).

The alpha argument is always passed by position, so any parameter name works. Expected values
are computed before the student's function runs.
"""

import numpy as np
import pytest

from activation_detectors import LEAKY_RELU, RELU_GRAD
from grader.judge.checks import expect_array, expect_unchanged, tolerance

pytestmark = pytest.mark.grade(exercise="leaky_relu", visibility="hidden")

LESSON_Z = [-3, -1, 0, 1, 3]


def check_leaky(student, reference, z, *args, case, unchanged=False):
    """Compare student.leaky_relu(z, *args) with the reference; args is () or (alpha,)."""
    expected = reference.leaky_relu(z.copy(), *args)
    before = z.copy()
    what = f"leaky_relu(z, {args[0]:g})" if args else "leaky_relu(z)"
    inp = {"z": z, "alpha": args[0]} if args else z
    rtol, atol = tolerance(z)
    expect_array(student.leaky_relu(z, *args), expected, inp=inp, what=what, rtol=rtol,
                 atol=atol, case=case, diagnose=LEAKY_RELU)
    if unchanged:
        expect_unchanged(z, before, what=what, case=case)


def check_grad(student, reference, z, *, case, unchanged=False):
    """Compare student.relu_grad(z) with the reference."""
    expected = reference.relu_grad(z.copy())
    before = z.copy()
    expect_array(student.relu_grad(z), expected, inp=z, what="relu_grad(z)", case=case,
                 diagnose=RELU_GRAD)
    if unchanged:
        expect_unchanged(z, before, what="relu_grad(z)", case=case)


def shape_cases(rng):
    """Inputs of every shape an element-wise function must accept."""
    return {
        "2-D batch": np.array([[-2.0, 0.0, 2.0], [1.5, -0.5, 0.25]]),
        "3-D int": np.arange(-12, 12).reshape(2, 3, 4),
        "float32": np.linspace(-5, 5, 11, dtype=np.float32),
        "large values": np.array([-1e4, -1.0, 1.0, 1e4]),
        "random batch": rng.normal(0.0, 3.0, size=(12, 8)),
        "0-d negative": np.array(-2.0),
        "0-d positive int": np.array(3),
        "empty": np.array([]),
        "empty batch": np.zeros((0, 4)),
    }


@pytest.mark.grade(function="leaky_relu", points=1.0, pitfall="leaky_wrong_alpha")
def test_leaky_relu_lesson_examples(student, reference):
    """leaky_relu with the default alpha = 0.01 on the lesson's inputs"""
    cases = {
        "lesson z (float)": np.array(LESSON_Z, dtype=float),
        "halves": np.array([-2.0, -0.5, 0.0, 0.5, 2.0]),
        "dead ReLU input": np.array([-5.0, -3.0, -2.0, -1.0]),
    }
    for case, z in cases.items():
        check_leaky(student, reference, z, case=case)


@pytest.mark.grade(function="leaky_relu", points=1.0, pitfall="leaky_int_truncation")
def test_leaky_relu_integer_input(student, reference):
    """leaky_relu keeps the fractional negative part for integer z"""
    z = np.array(LESSON_Z)
    check_leaky(student, reference, z, case="lesson z (int)")
    check_leaky(student, reference, np.array([[-7, 2], [0, -100]]), 0.1, case="int batch")
    check_leaky(student, reference, np.array([-1, -2, -50]), 0.3, case="int, alpha=0.3")


@pytest.mark.grade(function="leaky_relu", points=1.0, pitfall="leaky_ignores_alpha")
def test_leaky_relu_uses_alpha(student, reference, rng):
    """leaky_relu uses the alpha it is given"""
    z = np.array(LESSON_Z, dtype=float)
    for alpha in (0.2, 0.1, 0.05, 0.3):
        check_leaky(student, reference, z, alpha, case=f"alpha={alpha:g}")
    check_leaky(student, reference, rng.normal(0.0, 3.0, size=(5, 6)), 0.25, case="random batch")


@pytest.mark.grade(function="leaky_relu", points=0.5)
def test_leaky_relu_alpha_zero_is_relu(student, rng):
    """leaky_relu with alpha = 0 is exactly ReLU"""
    for case, z in {"lesson z": np.array(LESSON_Z, dtype=float),
                    "random": rng.normal(0.0, 2.0, size=20)}.items():
        expect_array(student.leaky_relu(z, 0.0), np.maximum(z, 0.0), inp={"z": z, "alpha": 0.0},
                     what="leaky_relu(z, 0) vs relu(z)", case=case, diagnose=LEAKY_RELU)


@pytest.mark.grade(function="leaky_relu", points=0.5, pitfall="if_on_array")
def test_leaky_relu_any_shape(student, reference, rng):
    """leaky_relu keeps the shape of any input and leaves z unchanged"""
    for case, z in shape_cases(rng).items():
        check_leaky(student, reference, z, case=case, unchanged=True)


@pytest.mark.grade(function="relu_grad", points=1.0)
def test_relu_grad_lesson_examples(student, reference):
    """relu_grad is 1 where z > 0 and 0 elsewhere on the lesson's inputs"""
    cases = {
        "dead ReLU input": np.array([-5.0, -3.0, -2.0, -1.0]),
        "lesson z (int)": np.array(LESSON_Z),
        "all positive": np.array([0.5, 1.0, 1e4]),
    }
    for case, z in cases.items():
        check_grad(student, reference, z, case=case)


@pytest.mark.grade(function="relu_grad", points=1.5, pitfall="relu_grad_at_zero")
def test_relu_grad_at_zero(student, reference):
    """relu_grad is 0 at z = 0"""
    cases = {
        "zeros among others": np.array([-1.0, 0.0, 1.0, 0.0]),
        "negative zero": np.array([-0.0, 0.0, 2.0]),
        "int zeros": np.array([0, 0, 5, -5]),
        "2-D with zeros": np.array([[0.0, 1.0], [-1.0, 0.0]]),
    }
    for case, z in cases.items():
        check_grad(student, reference, z, case=case)


@pytest.mark.grade(function="relu_grad", points=1.5, pitfall="wrong_shape")
def test_relu_grad_any_shape(student, reference, rng):
    """relu_grad keeps the shape of any input and leaves z unchanged"""
    for case, z in shape_cases(rng).items():
        check_grad(student, reference, z, case=case, unchanged=True)
