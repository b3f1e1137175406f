# From Tinusf/neural_network, assignment1/activation_funcs.py: the derivative branch of relu as
# written there (it overwrites the caller's array); leaky_relu is the lesson's.
import numpy as np


def leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, alpha * z)


def relu_grad(value):
    # return np.sign(value)
    value[value <= 0] = 0
    value[value > 0] = 1
    return value
