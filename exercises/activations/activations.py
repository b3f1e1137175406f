"""Exercise: the four activation functions of the lesson, in NumPy.

Rules for every function in this file:
- z is a NumPy array of any shape, floats or integers (e.g. np.array([-3, -1, 0, 1, 3])).
- Return a NumPy array (not a list, not a single number) with the shape of z;
  softmax works on the last axis, so a 2-D z gives one probability vector per row.
- Do not change z itself: build a new array.
- sigmoid, tanh and softmax must stay finite and correct for |z| as large as 10_000.

Replace each `raise NotImplementedError(...)` with your code. Run the public checks with
`pytest` in this folder.
"""

import numpy as np


def relu(z):
    """ReLU: max(0, z), element by element.

    >>> relu(np.array([-3, -1, 0, 1, 3]))
    array([0, 0, 0, 1, 3])
    """
    raise NotImplementedError("relu: write your implementation here")


def sigmoid(z):
    """Sigmoid: 1 / (1 + e^(-z)), element by element. Values lie in (0, 1); sigmoid(0) = 0.5."""
    raise NotImplementedError("sigmoid: write your implementation here")


def tanh(z):
    """Hyperbolic tangent: (e^z - e^(-z)) / (e^z + e^(-z)), element by element; tanh(0) = 0."""
    raise NotImplementedError("tanh: write your implementation here")


def softmax(z):
    """Softmax: e^(z_i) / sum_j e^(z_j).

    1-D z (one vector of scores) -> a probability vector of the same length, summing to 1.
    2-D z (a batch, one example per row) -> the softmax of each row; every row sums to 1.

    >>> softmax(np.array([1.0, 2.0, 3.0]))
    array([0.09003057, 0.24472847, 0.66524096])
    """
    raise NotImplementedError("softmax: write your implementation here")
