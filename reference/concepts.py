"""Reference answers for the concepts exercise: the lesson's conceptual questions as data."""

from __future__ import annotations

import math

#: The activation on the last layer for each kind of network in the lesson.
_OUTPUT_ACTIVATIONS = {
    "dqn": "linear",  # Q-values: any real number
    "policy": "softmax",  # action probabilities summing to 1
    "critic": "linear",  # a value estimate: any real number
    "binary": "sigmoid",  # one probability in (0, 1)
}

_RANGES = {
    "relu": (0.0, math.inf),
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
}


def hidden_layer_activation() -> str:
    """The standard activation for hidden layers."""
    return "relu"


def output_activation(task: str) -> str:
    """The last layer's activation for task 'dqn', 'policy', 'critic' or 'binary'."""
    return _OUTPUT_ACTIVATIONS[task.strip().lower()]


def tanh_over_sigmoid_reason() -> str:
    """Why tanh is often preferred over sigmoid for hidden layers."""
    return ("tanh is zero-centered: its outputs lie in (-1, 1) around 0, while sigmoid's lie "
            "in (0, 1) and are always positive, which makes the next layer's weight gradients "
            "share one sign and slows training")


def softmax_by_hand() -> tuple[float, float, float]:
    """softmax([1, 2, 3]): e^1, e^2, e^3 divided by their sum."""
    e1, e2, e3 = math.exp(1.0), math.exp(2.0), math.exp(3.0)
    total = e1 + e2 + e3
    return e1 / total, e2 / total, e3 / total


def activation_range(name: str) -> tuple[float, float]:
    """(lower, upper) ends of the range of 'relu', 'sigmoid' or 'tanh'."""
    return _RANGES[name.strip().lower()]
