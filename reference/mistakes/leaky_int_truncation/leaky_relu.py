import numpy as np


def leaky_relu(z, alpha=0.01):
    out = z.copy()
    out[z < 0] = alpha * z[z < 0]
    return out


def relu_grad(z):
    return (z > 0).astype(float)
