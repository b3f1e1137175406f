import numpy as np


def leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, 0.01 * z)


def relu_grad(z):
    return np.where(z >= 0, 1.0, 0.0)
