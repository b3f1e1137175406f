"""Hidden tests for the scaling exercise: softmax_temperature(z, temperature) and entropy(p).

The temperature is always passed by position. Expected values are computed before the
student's function runs.
"""

import math

import numpy as np
import pytest

from activation_checks import ENTROPY_ATOL
from activation_detectors import ENTROPY, TEMPERATURE
from grader.judge.checks import (
    expect_array,
    expect_close_scalar,
    expect_true,
    expect_unchanged,
    tolerance,
)

pytestmark = pytest.mark.grade(exercise="scaling", visibility="hidden")

def check_temperature(student, reference, z, temperature, *, case, unchanged=False):
    """Compare student.softmax_temperature(z, temperature) with the reference."""
    expected = reference.softmax_temperature(z.copy(), temperature)
    before = z.copy()
    what = f"softmax_temperature(z, {temperature:g})"
    rtol, atol = tolerance(z)
    got = expect_array(student.softmax_temperature(z, temperature), expected,
                       inp={"z": z, "temperature": temperature}, what=what, rtol=rtol, atol=atol,
                       case=case, diagnose=TEMPERATURE)
    if unchanged:
        expect_unchanged(z, before, what=what, case=case)
    return got


def check_entropy(student, reference, p, *, case, unchanged=False):
    """Compare student.entropy(p) with the reference: one number for 1-D p, one per row for 2-D."""
    expected = reference.entropy(p.copy())
    before = p.copy()
    got = student.entropy(p)
    kwargs = dict(inp={"p": p}, what="entropy(p)", atol=ENTROPY_ATOL, case=case, diagnose=ENTROPY)
    if p.ndim == 1:
        value = expect_close_scalar(got, float(expected), **kwargs)
    else:
        value = expect_array(got, expected, **kwargs)
    if unchanged:
        expect_unchanged(p, before, what="entropy(p)", case=case)
    return value


def random_distributions(rng, rows, n):
    """Random probability vectors (rows of a Dirichlet sample), none of them exactly zero."""
    return rng.dirichlet(np.ones(n), size=rows)


@pytest.mark.grade(function="softmax_temperature", points=0.5)
def test_temperature_one_is_softmax(student, reference, rng):
    """softmax_temperature with temperature 1 is the plain softmax"""
    check_temperature(student, reference, np.array([1, 2, 3]), 1.0, case="int [1, 2, 3]")
    check_temperature(student, reference, rng.normal(0.0, 2.0, size=8), 1.0, case="random")


@pytest.mark.grade(function="softmax_temperature", points=1.0, pitfall="temperature_multiplied")
def test_temperature_lesson_challenge(student, reference):
    """dividing by the temperature: small T sharpens, large T flattens the distribution"""
    z = np.array([1.0, 2.0, 3.0])
    for temperature in (0.5, 2.0, 10.0, 0.1):
        check_temperature(student, reference, z, temperature, case=f"[1, 2, 3], T={temperature:g}")
    check_temperature(student, reference, np.array([10.0, 20.0, 30.0]), 10.0,
                      case="[10, 20, 30], T=10")


@pytest.mark.grade(function="softmax_temperature", points=1.0, pitfall="softmax_overflow")
def test_small_temperature_stays_finite(student, reference):
    """a temperature as small as 0.001 with logits up to 100 gives a finite, near one-hot result"""
    cases = {
        "T=0.001": (np.array([100.0, -100.0, 50.0, 99.99]), 1e-3),
        "T=0.01": (np.array([-100.0, -99.0, -100.0]), 1e-2),
        "int logits, T=0.001": (np.array([3, 7, -100, 100]), 1e-3),
        "batch, T=0.002": (np.array([[100.0, 99.0], [-100.0, 100.0]]), 2e-3),
    }
    for case, (z, temperature) in cases.items():
        check_temperature(student, reference, z, temperature, case=case)


@pytest.mark.grade(function="softmax_temperature", points=1.0, pitfall="wrong_shape")
def test_temperature_shapes(student, reference, rng):
    """softmax_temperature returns the shape of z, for vectors and batches alike"""
    check_temperature(student, reference, rng.normal(0.0, 3.0, size=6), 0.5, case="1-D random")
    check_temperature(student, reference, np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), 2.0,
                      case="2-D batch")
    check_temperature(student, reference, rng.normal(0.0, 3.0, size=(4, 5)), 0.7,
                      case="random batch")
    check_temperature(student, reference, np.array([1.0, 2.0], dtype=np.float32), 0.5,
                      case="float32")


@pytest.mark.grade(function="softmax_temperature", points=0.5, pitfall="modifies_input")
def test_temperature_leaves_z_unchanged(student, reference, rng):
    """softmax_temperature leaves its logits unchanged"""
    check_temperature(student, reference, rng.normal(0.0, 3.0, size=(3, 4)), 0.25,
                      case="random batch", unchanged=True)
    check_temperature(student, reference, np.array([1, 2, 3]), 2.0, case="int [1, 2, 3]",
                      unchanged=True)


@pytest.mark.grade(function="entropy", points=1.0, pitfall="entropy_log_zero")
def test_entropy_uniform_and_certain(student, reference):
    """entropy is log(n) for a uniform distribution and 0 for a certain outcome (0 log 0 = 0)"""
    cases = {
        "uniform over 2": np.full(2, 0.5),
        "uniform over 10": np.full(10, 0.1),
        "one-hot": np.array([0.0, 1.0, 0.0]),
        "one-hot (int)": np.array([0, 0, 1, 0]),
        "two equal, two zero": np.array([0.5, 0.0, 0.5, 0.0]),
    }
    for case, p in cases.items():
        check_entropy(student, reference, p, case=case)


@pytest.mark.grade(function="entropy", points=1.0, pitfall="entropy_bits")
def test_entropy_values(student, reference, rng):
    """entropy in nats of the lesson's softmax outputs and of random distributions"""
    cases = {
        "softmax([1, 2, 3])": np.array([0.09003057317038046, 0.24472847105479764,
                                        0.6652409557748218]),
        "[0.7, 0.2, 0.1]": np.array([0.7, 0.2, 0.1]),
        "random": random_distributions(rng, 1, 6)[0],
    }
    for case, p in cases.items():
        check_entropy(student, reference, p, case=case)


@pytest.mark.grade(function="entropy", points=1.0, pitfall="returns_scalar")
def test_entropy_per_row(student, reference, rng):
    """a 2-D p gets one entropy per row"""
    cases = {
        "three rows": np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]]),
        "random rows": random_distributions(rng, 5, 4),
    }
    for case, p in cases.items():
        check_entropy(student, reference, p, case=case)


@pytest.mark.grade(function="entropy", points=1.0, pitfall="entropy_sign")
def test_entropy_properties(student, reference, rng):
    """entropy lies between 0 and log(n), the uniform distribution's, and leaves p unchanged"""
    n = 5
    uniform = check_entropy(student, reference, np.full(n, 1.0 / n), case="uniform over 5")
    for i, p in enumerate(random_distributions(rng, 4, n)):
        value = check_entropy(student, reference, p, case=f"random #{i}", unchanged=True)
        expect_true(0.0 <= value <= uniform + ENTROPY_ATOL,
                    f"entropy(p) = {value:.6g} should lie between 0 and log({n}) = {uniform:.6g}",
                    inp={"p": p}, case=f"random #{i}")
