"""Public checks for concepts.py: one question of each kind.

Run them with `pytest` in this folder. Grading adds hidden tests that ask the remaining
questions (the other tasks of output_activation, the other activation ranges) and check the
same answers again.
"""

import numpy as np
import pytest

from activation_checks import (
    ACTIVATION_RANGE,
    SOFTMAX_BY_HAND,
    expect_answer,
    expect_zero_centred_reason,
)
from grader.judge.answer_checks import expect_numbers

pytestmark = pytest.mark.grade(exercise="concepts", visibility="visible")


@pytest.mark.grade(function="hidden_layer_activation", points=0.4, pitfall="hidden_not_relu")
def test_hidden_layer_activation(student):
    """hidden_layer_activation names the standard activation for hidden layers"""
    expect_answer(student.hidden_layer_activation(), ("relu",), what="hidden_layer_activation()",
                  pitfall="hidden_not_relu")


@pytest.mark.grade(function="output_activation", points=0.4, pitfall="unbounded_output")
def test_output_activation_dqn(student):
    """a DQN's Q-values can be any real number: no activation on the last layer"""
    expect_answer(student.output_activation("dqn"), ("linear", "none", "identity", "noactivation"),
                  what="output_activation('dqn')", inp={"task": "dqn"},
                  pitfall="unbounded_output")


@pytest.mark.grade(function="tanh_over_sigmoid_reason", points=0.4, pitfall="tanh_zero_centred")
def test_tanh_over_sigmoid_reason(student):
    """the reason to prefer tanh over sigmoid in hidden layers: tanh is zero-centred"""
    expect_zero_centred_reason(student.tanh_over_sigmoid_reason(),
                               what="tanh_over_sigmoid_reason()", pitfall="tanh_zero_centred")


@pytest.mark.grade(function="softmax_by_hand", points=0.4)
def test_softmax_by_hand(student):
    """softmax_by_hand matches softmax([1, 2, 3]) to within 0.001"""
    expected = (0.09003057317038046, 0.24472847105479764, 0.6652409557748218)
    expect_numbers(student.softmax_by_hand(), expected, inp={"z": np.array([1.0, 2.0, 3.0])},
                   what="softmax_by_hand()", atol=1e-3, diagnose=SOFTMAX_BY_HAND)


@pytest.mark.grade(function="activation_range", points=0.4, pitfall="range_mixup")
def test_activation_range_sigmoid(student):
    """sigmoid squashes into (0, 1)"""
    expect_numbers(student.activation_range("sigmoid"), (0.0, 1.0), inp={"name": "sigmoid"},
                   what="activation_range('sigmoid')", atol=1e-9, diagnose=ACTIVATION_RANGE)
