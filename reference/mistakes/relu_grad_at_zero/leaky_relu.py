import numpy as np


def leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, alpha * z)


def relu_grad(z):
    return (z >= 0).astype(float)
