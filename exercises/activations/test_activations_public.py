"""Public checks for activations.py: the lesson's own examples.

Run them with `pytest` in this folder. Grading adds hidden tests that check the same rules on
more inputs (integers, batches, 0-d and empty arrays, very large values, random data).
"""

import numpy as np
import pytest

from activation_detectors import RELU, SIGMOID, SOFTMAX, TANH
from grader.judge.checks import expect_array, expect_unchanged

pytestmark = pytest.mark.grade(exercise="activations", visibility="visible")


def lesson_z():
    """The lesson's example input, as integers."""
    return np.array([-3, -1, 0, 1, 3])


@pytest.mark.grade(function="relu", points=0.4, pitfall="np_max")
def test_relu_lesson_example(student):
    """relu works element by element on the lesson's z"""
    z = lesson_z()
    got = student.relu(z)
    expect_array(got, [0, 0, 0, 1, 3], inp=z, what="relu(z)", diagnose=RELU)
    expect_unchanged(z, lesson_z(), what="relu(z)")


@pytest.mark.grade(function="sigmoid", points=0.4, pitfall="math_exp_on_array")
def test_sigmoid_lesson_example(student):
    """sigmoid squashes the lesson's z into (0, 1), with sigmoid(0) = 0.5"""
    z = lesson_z()
    expected = [0.04742587317756679, 0.2689414213699951, 0.5, 0.7310585786300049,
                0.9525741268224334]
    expect_array(student.sigmoid(z), expected, inp=z, what="sigmoid(z)", diagnose=SIGMOID)


@pytest.mark.grade(function="tanh", points=0.4, pitfall="math_exp_on_array")
def test_tanh_lesson_example(student):
    """tanh squashes the lesson's z into (-1, 1), with tanh(0) = 0"""
    z = lesson_z()
    expected = [-0.9950547536867305, -0.7615941559557649, 0.0, 0.7615941559557649,
                0.9950547536867305]
    expect_array(student.tanh(z), expected, inp=z, what="tanh(z)", diagnose=TANH)


@pytest.mark.grade(function="softmax", points=0.4, pitfall="scalar_softmax")
def test_softmax_lesson_example(student):
    """softmax of [1, 2, 3] matches the warm-up computed by hand"""
    z = np.array([1.0, 2.0, 3.0])
    expected = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
    expect_array(student.softmax(z), expected, inp=z, what="softmax(z)", diagnose=SOFTMAX)


@pytest.mark.grade(function="softmax", points=0.4, pitfall="softmax_overflow")
def test_softmax_large_logits(student):
    """softmax stays finite for large logits such as [1000, 1001, 1002]"""
    z = np.array([1000.0, 1001.0, 1002.0])
    expected = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
    expect_array(student.softmax(z), expected, inp=z, what="softmax(z)", diagnose=SOFTMAX)
