"""Linear collapse - Alice."""

import numpy as np


def collapse_linear(W1, b1, W2, b2):
    # W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)
    A = W2 @ W1
    c = W2 @ b1 + b2
    return A, c


def relu_breaks_collapse(W1, b1, W2, b2, x):
    A, c = collapse_linear(W1, b1, W2, b2)
    with_relu = W2 @ np.maximum(0, W1 @ x + b1) + b2
    return not np.allclose(with_relu, A @ x + c)


if __name__ == "__main__":
    W1, b1 = np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([1.0, 0.0])
    W2, b2 = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0.0, 1.0])
    print(collapse_linear(W1, b1, W2, b2))
