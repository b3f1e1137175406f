import numpy as np


def leaky_relu(z, alpha=0.01):
    if z > 0:
        return z
    else:
        return alpha * z


def relu_grad(z):
    return (z > 0).astype(float)
