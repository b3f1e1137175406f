import numpy as np


def relu(z):
    return np.maximum(0, z)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def tanh(z):
    return np.tanh(z)


def softmax(z):
    # softmax of every score
    return np.array([np.exp(x) / np.sum(np.exp(x)) for x in z])
