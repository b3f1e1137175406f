"""Public checks for leaky_relu.py: the lesson's own examples.

Run them with `pytest` in this folder. Grading adds hidden tests that check the same rules on
more inputs (other alphas, batches, float32, 0-d and empty arrays, random data).
"""

import numpy as np
import pytest

from activation_detectors import LEAKY_RELU, RELU_GRAD
from grader.judge.checks import expect_array, expect_unchanged

pytestmark = pytest.mark.grade(exercise="leaky_relu", visibility="visible")


@pytest.mark.grade(function="leaky_relu", points=0.5, pitfall="leaky_int_truncation")
def test_leaky_relu_lesson_example(student):
    """leaky_relu on the lesson's z = [-3, -1, 0, 1, 3] keeps a small negative slope"""
    z = np.array([-3, -1, 0, 1, 3])
    got = student.leaky_relu(z)
    expect_array(got, [-0.03, -0.01, 0.0, 1.0, 3.0], inp=z, what="leaky_relu(z)",
                 diagnose=LEAKY_RELU)
    expect_unchanged(z, np.array([-3, -1, 0, 1, 3]), what="leaky_relu(z)")


@pytest.mark.grade(function="leaky_relu", points=0.5, pitfall="leaky_ignores_alpha")
def test_leaky_relu_uses_alpha(student):
    """leaky_relu uses the alpha it is given"""
    z = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    expect_array(student.leaky_relu(z, 0.2), [-0.6, -0.2, 0.0, 1.0, 3.0],
                 inp={"z": z, "alpha": 0.2}, what="leaky_relu(z, 0.2)", diagnose=LEAKY_RELU)


@pytest.mark.grade(function="relu_grad", points=0.5)
def test_relu_grad_dead_neuron(student):
    """relu_grad is 0 everywhere for the lesson's dead-ReLU input"""
    z = np.array([-5.0, -3.0, -2.0, -1.0])
    expect_array(student.relu_grad(z), [0.0, 0.0, 0.0, 0.0], inp=z, what="relu_grad(z)",
                 diagnose=RELU_GRAD)


@pytest.mark.grade(function="relu_grad", points=0.5, pitfall="relu_grad_at_zero")
def test_relu_grad_lesson_example(student):
    """relu_grad is 1 where z > 0 and 0 elsewhere, including at z = 0"""
    z = np.array([-3, -1, 0, 1, 3])
    expect_array(student.relu_grad(z), [0.0, 0.0, 0.0, 1.0, 1.0], inp=z, what="relu_grad(z)",
                 diagnose=RELU_GRAD)
