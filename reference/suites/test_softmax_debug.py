"""Hidden tests for the softmax_debug exercise: the handout's softmax with its overflow fixed.

The handout's version already passes the small-logit tests; the rest need the fix. Expected
values are computed before the student's function runs.
"""

import numpy as np
import pytest

from activation_detectors import SOFTMAX
from grader.judge.checks import expect_array, expect_unchanged, tolerance

pytestmark = pytest.mark.grade(exercise="softmax_debug", visibility="hidden")


def check(student, reference, z, *, case, unchanged=False):
    """Compare student.softmax(z) with the reference."""
    expected = reference.softmax(z.copy())
    before = z.copy()
    rtol, atol = tolerance(z)
    got = expect_array(student.softmax(z), expected, inp=z, what="softmax(z)", rtol=rtol,
                       atol=atol, case=case, diagnose=SOFTMAX)
    if unchanged:
        expect_unchanged(z, before, what="softmax(z)", case=case)
    return got


def run_cases(student, reference, cases, unchanged=False):
    for case, z in cases.items():
        check(student, reference, z, case=case, unchanged=unchanged)


@pytest.mark.grade(function="softmax", points=1.0, pitfall="scalar_softmax")
def test_small_logits_unchanged_by_fix(student, reference):
    """the fixed softmax still gives the right answer for small logits"""
    run_cases(student, reference, {
        "[1, 2, 3]": np.array([1.0, 2.0, 3.0]),
        "[0.1, 0.2, 0.3]": np.array([0.1, 0.2, 0.3]),
        "int [1, 2, 3]": np.array([1, 2, 3]),
        "equal scores": np.zeros(5),
        "one score": np.array([7.0]),
        "float32": np.array([0.5, -1.0, 2.0], dtype=np.float32),
    }, unchanged=True)


@pytest.mark.grade(function="softmax", points=1.5, pitfall="softmax_overflow")
def test_large_positive_logits(student, reference):
    """softmax is finite and correct for large positive logits such as [1000, 1001, 1002]"""
    run_cases(student, reference, {
        "[1000, 1001, 1002]": np.array([1000.0, 1001.0, 1002.0]),
        "[0, 1000]": np.array([0.0, 1000.0]),
        "1e4 scale": np.array([1e4, 1e4 - 1.0, 1e4 - 5.0]),
        "large ints": np.array([800, 801, 700]),
    })


@pytest.mark.grade(function="softmax", points=1.5, pitfall="softmax_overflow")
def test_large_negative_logits(student, reference):
    """softmax is finite and correct for very negative logits such as [-1000, -1000]"""
    run_cases(student, reference, {
        "[-1000, -1000]": np.array([-1000.0, -1000.0]),
        "-1e4 scale": np.array([-1e4, -1e4 + 1.0, -1e4 + 2.0]),
        "large negative ints": np.array([-900, -901, -905]),
        "+-1e4": np.array([-1e4, 1e4]),
    })


@pytest.mark.grade(function="softmax", points=1.0, pitfall="softmax_whole_array")
def test_batches(student, reference):
    """a 2-D batch gets one softmax per row"""
    run_cases(student, reference, {
        "two rows": np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),
        "int rows": np.array([[1, 2], [3, 5], [-1, 4]]),
        "one row": np.array([[0.5, 1.5, -0.5]]),
    }, unchanged=True)


@pytest.mark.grade(function="softmax", points=1.5, pitfall="softmax_global_max")
def test_batches_with_large_rows(student, reference):
    """each row of a batch stays finite, even when rows sit at very different scales"""
    run_cases(student, reference, {
        "rows near 1000": np.array([[1000.0, 1001.0, 1002.0], [1000.0, 1000.0, 1000.0]]),
        "rows near +1000 and -1000": np.array([[1000.0, 1001.0, 1002.0],
                                               [-1000.0, -1000.0, -999.0]]),
        "rows near +1e4 and -1e4": np.array([[1e4, 0.0], [-1e4, -1e4 + 3.0]]),
    })


@pytest.mark.grade(function="softmax", points=1.5, pitfall="softmax_wrong_axis")
def test_random_batches(student, reference, rng):
    """softmax matches the reference on random batches and ignores a shift of all logits"""
    z = rng.normal(0.0, 3.0, size=(7, 4))
    plain = check(student, reference, z, case="random batch", unchanged=True)
    shifted = z + 800.0
    expect_array(student.softmax(shifted), plain, inp=shifted,
                 what="softmax(z + 800) vs softmax(z)", case="shift invariance", diagnose=SOFTMAX)
    check(student, reference, rng.normal(0.0, 500.0, size=(5, 6)), case="random large batch")
