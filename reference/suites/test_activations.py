"""Hidden tests for the activations exercise: relu, sigmoid, tanh and softmax.

Every test compares the student's answer with the reference solution on the lesson's examples,
edge cases (0-d and empty arrays, integers, float32, batches, |z| up to 1e4) and seeded random
inputs. Expected values are computed before the student's function runs, so a function that
changes its argument in place cannot change the expectation.
"""

import numpy as np
import pytest

from activation_detectors import RELU, SIGMOID, SOFTMAX, TANH
from grader.judge.checks import expect_array, expect_unchanged, tolerance

pytestmark = pytest.mark.grade(exercise="activations", visibility="hidden")

LESSON_Z = [-3, -1, 0, 1, 3]


def check(student_fn, reference_fn, z, *, what, diagnose, case="", unchanged=False):
    """Compare student_fn(z) with reference_fn(z); optionally check z was left alone."""
    expected = reference_fn(z.copy())
    before = z.copy()
    rtol, atol = tolerance(z)
    got = expect_array(student_fn(z), expected, inp=z, what=what, rtol=rtol, atol=atol,
                       case=case, diagnose=diagnose)
    if unchanged:
        expect_unchanged(z, before, what=what, case=case)
    return got


def shape_cases(rng):
    """Inputs of every shape an element-wise function must accept."""
    return {
        "2-D batch": np.array([[-2.0, 0.0, 2.0], [1.5, -0.5, 0.25]]),
        "3-D int": np.arange(-12, 12).reshape(2, 3, 4),
        "float32": np.linspace(-5, 5, 11, dtype=np.float32),
        "random batch": rng.normal(0.0, 4.0, size=(16, 10)),
        "0-d float": np.array(-2.5),
        "0-d int": np.array(4),
        "empty": np.array([]),
        "empty batch": np.zeros((0, 3)),
    }


@pytest.mark.grade(function="relu", points=0.8, pitfall="np_max")
def test_relu_lesson_examples(student, reference):
    """relu works element by element on the lesson's inputs"""
    cases = {
        "lesson z (int)": np.array(LESSON_Z),
        "lesson z (float)": np.array(LESSON_Z, dtype=float),
        "dead ReLU": np.array([-5.0, -3.0, -2.0, -1.0]),
        "large values": np.array([-1e4, -1.0, 0.0, 1e-300, 1e4]),
    }
    for case, z in cases.items():
        check(student.relu, reference.relu, z, what="relu(z)", diagnose=RELU, case=case)


@pytest.mark.grade(function="relu", points=0.8, pitfall="modifies_input")
def test_relu_any_shape(student, reference, rng):
    """relu keeps the shape of any input and leaves z unchanged"""
    for case, z in shape_cases(rng).items():
        check(student.relu, reference.relu, z, what="relu(z)", diagnose=RELU, case=case,
              unchanged=True)


@pytest.mark.grade(function="sigmoid", points=0.8, pitfall="math_exp_on_array")
def test_sigmoid_values(student, reference, rng):
    """sigmoid matches 1 / (1 + e^-z) on the lesson's z, any shape, and random inputs"""
    cases = {"lesson z (int)": np.array(LESSON_Z), "zero": np.array([0.0])}
    cases.update(shape_cases(rng))
    for case, z in cases.items():
        check(student.sigmoid, reference.sigmoid, z, what="sigmoid(z)", diagnose=SIGMOID,
              case=case, unchanged=True)
    z = rng.uniform(-5.0, 5.0, size=50)
    s = check(student.sigmoid, reference.sigmoid, z, what="sigmoid(z)", diagnose=SIGMOID,
              case="random")
    # Symmetry sigmoid(-z) = 1 - sigmoid(z), judged against the student's own values.
    expect_array(student.sigmoid(-z), 1.0 - s, inp=-z, what="sigmoid(-z) vs 1 - sigmoid(z)",
                 case="symmetry", diagnose=SIGMOID)


@pytest.mark.grade(function="sigmoid", points=0.8, pitfall="sigmoid_overflow")
def test_sigmoid_large_inputs(student, reference):
    """sigmoid stays finite and correct for |z| up to 1e4"""
    big = [-1e4, -1000.0, -745.0, -700.0, -40.0, 40.0, 700.0, 1000.0, 1e4]
    cases = {
        "large floats": np.array(big),
        "large ints": np.array([-10000, -800, 800, 10000]),
        "large batch": np.array([big[:4], big[5:]]),
        "float32": np.array([-100.0, -20.0, 20.0, 100.0], dtype=np.float32),
    }
    for case, z in cases.items():
        check(student.sigmoid, reference.sigmoid, z, what="sigmoid(z)", diagnose=SIGMOID,
              case=case)


@pytest.mark.grade(function="tanh", points=0.8, pitfall="math_exp_on_array")
def test_tanh_values(student, reference, rng):
    """tanh matches the reference on the lesson's z, any shape, and is odd"""
    cases = {"lesson z (int)": np.array(LESSON_Z), "zero": np.array([0.0])}
    cases.update(shape_cases(rng))
    for case, z in cases.items():
        check(student.tanh, reference.tanh, z, what="tanh(z)", diagnose=TANH, case=case,
              unchanged=True)
    z = rng.uniform(-4.0, 4.0, size=50)
    t = check(student.tanh, reference.tanh, z, what="tanh(z)", diagnose=TANH, case="random")
    expect_array(student.tanh(-z), -t, inp=-z, what="tanh(-z) vs -tanh(z)", case="odd",
                 diagnose=TANH)


@pytest.mark.grade(function="tanh", points=0.8, pitfall="tanh_overflow")
def test_tanh_large_inputs(student, reference):
    """tanh stays finite and tends to -1 and 1 for |z| up to 1e4"""
    cases = {
        "large floats": np.array([-1e4, -800.0, -400.0, -20.0, 20.0, 400.0, 800.0, 1e4]),
        "large ints": np.array([-10000, -1000, 1000, 10000]),
        "large batch": np.array([[-1e4, 1e4], [-750.0, 750.0]]),
    }
    for case, z in cases.items():
        check(student.tanh, reference.tanh, z, what="tanh(z)", diagnose=TANH, case=case)


@pytest.mark.grade(function="softmax", points=0.8, pitfall="scalar_softmax")
def test_softmax_vectors(student, reference):
    """softmax turns the lesson's score vectors into probabilities"""
    cases = {
        "[1, 2, 3] (int)": np.array([1, 2, 3]),
        "[10, 20, 30]": np.array([10.0, 20.0, 30.0]),
        "[0.1, 0.2, 0.3]": np.array([0.1, 0.2, 0.3]),
        "equal scores": np.zeros(4),
        "one score": np.array([5.0]),
        "float32": np.array([0.5, -1.0, 2.0, 0.0], dtype=np.float32),
    }
    for case, z in cases.items():
        check(student.softmax, reference.softmax, z, what="softmax(z)", diagnose=SOFTMAX,
              case=case, unchanged=True)


@pytest.mark.grade(function="softmax", points=0.8, pitfall="softmax_overflow")
def test_softmax_large_logits(student, reference):
    """softmax stays finite for logits up to 1e4 in size, positive or negative"""
    cases = {
        "[1000, 1001, 1002]": np.array([1000.0, 1001.0, 1002.0]),
        "[-1000, -1000]": np.array([-1000.0, -1000.0]),
        "[0, 1000]": np.array([0.0, 1000.0]),
        "+-1e4": np.array([1e4, -1e4, 0.0]),
        "large ints": np.array([10000, 9999, 9990]),
        "very negative": np.array([-1e4, -1e4 + 1.0]),
    }
    for case, z in cases.items():
        check(student.softmax, reference.softmax, z, what="softmax(z)", diagnose=SOFTMAX,
              case=case)


@pytest.mark.grade(function="softmax", points=0.8, pitfall="softmax_whole_array")
def test_softmax_batches(student, reference, rng):
    """softmax of a 2-D batch normalises each row on its own, and ignores a shift of the logits"""
    cases = {
        "two rows": np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]),
        "int rows": np.array([[1, 2, 3, 4], [0, 0, 0, 8], [-3, -1, 0, 1]]),
        "one row": np.array([[0.5, 1.5]]),
        "random batch": rng.normal(0.0, 3.0, size=(6, 4)),
    }
    for case, z in cases.items():
        check(student.softmax, reference.softmax, z, what="softmax(z)", diagnose=SOFTMAX,
              case=case, unchanged=True)
    z = rng.normal(0.0, 2.0, size=(5, 3))
    plain = check(student.softmax, reference.softmax, z, what="softmax(z)", diagnose=SOFTMAX,
                  case="random batch")
    expect_array(student.softmax(z + 50.0), plain, inp=z + 50.0,
                 what="softmax(z + 50) vs softmax(z)", case="shift invariance",
                 diagnose=SOFTMAX)


@pytest.mark.grade(function="softmax", points=0.8, pitfall="softmax_global_max")
def test_softmax_rows_at_different_scales(student, reference):
    """softmax keeps every row of a batch finite when the rows sit at very different scales"""
    cases = {
        "rows near +1000 and -1000": np.array([[1000.0, 1001.0, 1002.0],
                                               [-1000.0, -1000.0, -999.0]]),
        "rows near +1e4 and -1e4": np.array([[1e4, 0.0], [-1e4, -1e4 + 2.0]]),
    }
    for case, z in cases.items():
        check(student.softmax, reference.softmax, z, what="softmax(z)", diagnose=SOFTMAX,
              case=case)
