"""Public checks for scaling.py: the lesson's challenge and entropy basics.

Run them with `pytest` in this folder. Grading adds hidden tests with more inputs (tiny
temperatures, batches, integers, random distributions).
"""

import math

import numpy as np
import pytest

from activation_checks import ENTROPY_ATOL
from activation_detectors import ENTROPY, TEMPERATURE
from grader.judge.checks import expect_array, expect_close_scalar

pytestmark = pytest.mark.grade(exercise="scaling", visibility="visible")


@pytest.mark.grade(function="softmax_temperature", points=0.5)
def test_temperature_one_is_plain_softmax(student):
    """softmax_temperature with temperature 1 is the plain softmax of [1, 2, 3]"""
    z = np.array([1.0, 2.0, 3.0])
    expected = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
    expect_array(student.softmax_temperature(z, 1.0), expected,
                 inp={"z": z, "temperature": 1.0}, what="softmax_temperature(z, 1.0)",
                 diagnose=TEMPERATURE)


@pytest.mark.grade(function="softmax_temperature", points=0.5, pitfall="temperature_multiplied")
def test_temperature_divides_logits(student):
    """temperature 10 turns [1, 2, 3] into softmax([0.1, 0.2, 0.3]), a flatter distribution"""
    z = np.array([1.0, 2.0, 3.0])
    expected = [0.3006096053557273, 0.3322249935333473, 0.3671654011109255]
    expect_array(student.softmax_temperature(z, 10.0), expected,
                 inp={"z": z, "temperature": 10.0}, what="softmax_temperature(z, 10.0)",
                 diagnose=TEMPERATURE)


@pytest.mark.grade(function="entropy", points=0.5, pitfall="entropy_bits")
def test_entropy_of_uniform(student):
    """entropy of the uniform distribution over 4 outcomes is log(4) nats"""
    p = np.array([0.25, 0.25, 0.25, 0.25])
    expect_close_scalar(student.entropy(p), math.log(4), inp={"p": p}, what="entropy(p)",
                        atol=ENTROPY_ATOL, diagnose=ENTROPY)


@pytest.mark.grade(function="entropy", points=0.5, pitfall="entropy_log_zero")
def test_entropy_with_zero_probabilities(student):
    """entropy treats 0 * log(0) as 0: a certain outcome has entropy 0"""
    p = np.array([0.0, 1.0, 0.0])
    expect_close_scalar(student.entropy(p), 0.0, inp={"p": p}, what="entropy(p)",
                        atol=ENTROPY_ATOL, diagnose=ENTROPY)
