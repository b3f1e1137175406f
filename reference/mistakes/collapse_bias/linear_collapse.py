import numpy as np


def collapse_linear(W1, b1, W2, b2):
    A = W2 @ W1
    c = b1 + b2
    return A, c


def relu_breaks_collapse(W1, b1, W2, b2, x):
    linear = W2 @ (W1 @ x + b1) + b2
    with_relu = W2 @ np.maximum(0, W1 @ x + b1) + b2
    return bool(np.any(linear != with_relu))
