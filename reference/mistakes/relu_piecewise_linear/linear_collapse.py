import numpy as np


def collapse_linear(W1, b1, W2, b2):
    return W2 @ W1, W2 @ b1 + b2


def relu_breaks_collapse(W1, b1, W2, b2, x):
    # ReLU is not linear, so the network can never be collapsed
    return True
