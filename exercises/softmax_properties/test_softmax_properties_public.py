"""Public checks for softmax_properties.py: one example per property.

Run them with `pytest` in this folder. Grading adds hidden tests with more inputs (|z| up to
1e4, batches, integers, random data), the gradient of logsumexp by finite differences, both
temperature limits of the Boltzmann policy, and the Lipschitz bound on random pairs of inputs.
"""

import math

import numpy as np
import pytest

from activation_checks import BOLTZMANN, LIPSCHITZ, LOGSUMEXP
from grader.judge.checks import expect_array, expect_close_scalar

pytestmark = pytest.mark.grade(exercise="softmax_properties", visibility="visible")

LSE_123 = 3.40760596444438  # log(e^1 + e^2 + e^3)


@pytest.mark.grade(function="logsumexp", points=0.5, pitfall="logsumexp_shift_not_added_back")
def test_logsumexp_small(student):
    """logsumexp([1, 2, 3]) = log(e^1 + e^2 + e^3), a single number"""
    z = np.array([1.0, 2.0, 3.0])
    expect_close_scalar(student.logsumexp(z), LSE_123, inp={"z": z}, what="logsumexp(z)",
                        atol=1e-9, diagnose=LOGSUMEXP)


@pytest.mark.grade(function="logsumexp", points=0.5, pitfall="logsumexp_overflow")
def test_logsumexp_large(student):
    """logsumexp([1000, 1001, 1002]) is finite: 1000 + logsumexp([0, 1, 2])"""
    z = np.array([1000.0, 1001.0, 1002.0])
    expect_close_scalar(student.logsumexp(z), 999.0 + LSE_123, inp={"z": z}, what="logsumexp(z)",
                        atol=1e-9, diagnose=LOGSUMEXP)


@pytest.mark.grade(function="boltzmann_policy", points=0.25,
                   pitfall="boltzmann_temperature_multiplied")
def test_boltzmann_high_temperature(student):
    """temperature 10 turns Q-values [1, 2, 3] into the flatter softmax([0.1, 0.2, 0.3])"""
    q = np.array([1.0, 2.0, 3.0])
    expected = [0.3006096053557273, 0.3322249935333473, 0.3671654011109255]
    expect_array(student.boltzmann_policy(q, 10.0), expected,
                 inp={"q_values": q, "temperature": 10.0}, what="boltzmann_policy(q_values, 10)",
                 diagnose=BOLTZMANN)


@pytest.mark.grade(function="boltzmann_policy", points=0.25, pitfall="greedy_ties")
def test_boltzmann_greedy_limit_with_tie(student):
    """at temperature 0.001 two tied best actions share the probability evenly"""
    q = np.array([1.0, 3.0, 3.0])
    expect_array(student.boltzmann_policy(q, 1e-3), [0.0, 0.5, 0.5],
                 inp={"q_values": q, "temperature": 1e-3}, what="boltzmann_policy(q_values, 0.001)",
                 diagnose=BOLTZMANN)


@pytest.mark.grade(function="softmax_lipschitz_bound", points=0.5, pitfall="lipschitz_inverse")
def test_lipschitz_bound(student):
    """softmax with inverse temperature 2 is 2-Lipschitz (Gao & Pavel)"""
    expect_close_scalar(student.softmax_lipschitz_bound(2.0), 2.0,
                        inp={"inverse_temperature": 2.0}, what="softmax_lipschitz_bound(2)",
                        diagnose=LIPSCHITZ)
