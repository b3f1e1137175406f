"""Hidden tests for the concepts exercise: the lesson's conceptual questions, answered as data.

One-word answers are compared after dropping case, spaces and punctuation; the tanh question is
graded by keyword (zero-centred, in any of the phrasings the README lists); the hand-computed
softmax is allowed 0.001 either way.
"""

import math

import numpy as np
import pytest

from activation_checks import (
    ACTIVATION_RANGE,
    SOFTMAX_BY_HAND,
    expect_answer,
    expect_zero_centred_reason,
)
from grader.judge.checks import expect_true
from grader.judge.answer_checks import as_numbers, expect_numbers

pytestmark = pytest.mark.grade(exercise="concepts", visibility="hidden")

LINEAR = ("linear", "none", "identity", "noactivation")
LESSON_LOGITS = np.array([1.0, 2.0, 3.0])
BY_HAND_ATOL = 1e-3


def check_output(student, task, accepted, pitfall):
    got = student.output_activation(task)
    expect_answer(got, accepted, what=f"output_activation({task!r})", inp={"task": task},
                  pitfall=pitfall)


def check_range(student, reference, name, case=""):
    expected = reference.activation_range(name)
    expect_numbers(student.activation_range(name), expected, inp={"name": name},
                   what=f"activation_range({name!r})", atol=1e-9, case=case,
                   diagnose=ACTIVATION_RANGE)


@pytest.mark.grade(function="hidden_layer_activation", points=1.0, pitfall="hidden_not_relu")
def test_hidden_layer_activation(student):
    """hidden_layer_activation names the standard activation for hidden layers"""
    expect_answer(student.hidden_layer_activation(), ("relu",), what="hidden_layer_activation()",
                  pitfall="hidden_not_relu")


@pytest.mark.grade(function="output_activation", points=1.0, pitfall="unbounded_output")
def test_output_activation_dqn(student):
    """a DQN's Q-values can be any real number: no activation on the last layer"""
    check_output(student, "dqn", LINEAR, "unbounded_output")


@pytest.mark.grade(function="output_activation", points=0.5, pitfall="unbounded_output")
def test_output_activation_critic(student):
    """a critic's value estimate can be any real number: no activation on the last layer"""
    check_output(student, "critic", LINEAR, "unbounded_output")


@pytest.mark.grade(function="output_activation", points=0.5, pitfall="policy_softmax")
def test_output_activation_policy(student):
    """a policy network outputs action probabilities: softmax over the actions"""
    check_output(student, "policy", ("softmax",), "policy_softmax")


@pytest.mark.grade(function="output_activation", points=0.5, pitfall="binary_sigmoid")
def test_output_activation_binary(student):
    """a binary classifier outputs one probability in (0, 1): sigmoid"""
    check_output(student, "binary", ("sigmoid", "logistic"), "binary_sigmoid")


@pytest.mark.grade(function="tanh_over_sigmoid_reason", points=1.5, pitfall="tanh_zero_centred")
def test_tanh_over_sigmoid_reason(student):
    """the reason to prefer tanh over sigmoid in hidden layers: tanh is zero-centred"""
    expect_zero_centred_reason(student.tanh_over_sigmoid_reason(),
                               what="tanh_over_sigmoid_reason()", pitfall="tanh_zero_centred")


@pytest.mark.grade(function="softmax_by_hand", points=1.0)
def test_softmax_by_hand_values(student, reference):
    """softmax_by_hand matches softmax([1, 2, 3]) to within 0.001"""
    expect_numbers(student.softmax_by_hand(), reference.softmax_by_hand(),
                   inp={"z": LESSON_LOGITS}, what="softmax_by_hand()", atol=BY_HAND_ATOL,
                   diagnose=SOFTMAX_BY_HAND)


@pytest.mark.grade(function="softmax_by_hand", points=0.5, pitfall="softmax_by_hand_not_normalised")
def test_softmax_by_hand_is_a_distribution(student):
    """softmax_by_hand gives three increasing probabilities that sum to 1"""
    inp = {"z": LESSON_LOGITS}
    got = as_numbers(student.softmax_by_hand(), 3, inp=inp, what="softmax_by_hand()")
    total = float(got.sum())
    expect_true(math.isclose(total, 1.0, abs_tol=3 * BY_HAND_ATOL),
                f"softmax_by_hand() returned {tuple(got.tolist())}, which sums to {total:.6g}; "
                "probabilities sum to 1", inp=inp)
    expect_true(bool(np.all((got > 0) & (got < 1))),
                f"softmax_by_hand() returned {tuple(got.tolist())}; every softmax output lies "
                "strictly between 0 and 1", inp=inp)
    expect_true(bool(np.all(np.diff(got) > 0)),
                f"softmax_by_hand() returned {tuple(got.tolist())}; softmax keeps the order of "
                "the scores, so the three values must increase like 1, 2, 3", inp=inp)


@pytest.mark.grade(function="activation_range", points=0.5, pitfall="relu_unbounded")
def test_activation_range_relu(student, reference):
    """ReLU's range is [0, inf): no upper bound"""
    check_range(student, reference, "relu")


@pytest.mark.grade(function="activation_range", points=1.0, pitfall="range_mixup")
def test_activation_range_squashing(student, reference):
    """sigmoid squashes into (0, 1) and tanh into (-1, 1)"""
    for name in ("sigmoid", "tanh"):
        check_range(student, reference, name, case=name)
