"""Public checks for softmax_debug.py.

The handout's softmax already passes the first check; the others fail until the bug is fixed.
Run them with `pytest` in this folder. Grading adds hidden tests with more inputs (batches at
very different scales, |z| up to 10_000, integers, random data).
"""

import numpy as np
import pytest

from activation_detectors import SOFTMAX
from grader.judge.checks import expect_array

pytestmark = pytest.mark.grade(exercise="softmax_debug", visibility="visible")

SOFTMAX_123 = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]


@pytest.mark.grade(function="softmax", points=0.5, pitfall="scalar_softmax")
def test_small_logits_still_work(student):
    """softmax of [1, 2, 3] is still right after the fix"""
    z = np.array([1.0, 2.0, 3.0])
    expect_array(student.softmax(z), SOFTMAX_123, inp=z, what="softmax(z)", diagnose=SOFTMAX)


@pytest.mark.grade(function="softmax", points=0.5, pitfall="softmax_overflow")
def test_large_positive_logits(student):
    """softmax of [1000, 1001, 1002] is finite and equals softmax of [1, 2, 3]"""
    z = np.array([1000.0, 1001.0, 1002.0])
    expect_array(student.softmax(z), SOFTMAX_123, inp=z, what="softmax(z)", diagnose=SOFTMAX)


@pytest.mark.grade(function="softmax", points=0.5, pitfall="softmax_overflow")
def test_large_negative_logits(student):
    """softmax of [-1000, -1000] is [0.5, 0.5], not 0 / 0"""
    z = np.array([-1000.0, -1000.0])
    expect_array(student.softmax(z), [0.5, 0.5], inp=z, what="softmax(z)", diagnose=SOFTMAX)


@pytest.mark.grade(function="softmax", points=0.5, pitfall="softmax_whole_array")
def test_batch_of_rows(student):
    """a 2-D batch gets one softmax per row, each row summing to 1"""
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 1001.0, 1002.0]])
    expect_array(student.softmax(z), [SOFTMAX_123, SOFTMAX_123], inp=z, what="softmax(z)",
                 diagnose=SOFTMAX)
