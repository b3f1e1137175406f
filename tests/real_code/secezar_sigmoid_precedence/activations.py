# From secezar/Neural_Network, src/activations.py: sigmoid as written there (1 / 1 + exp(-x)
# divides before adding); the other functions are the lesson's.
import numpy as np
from numpy import exp


def relu(z):
    return np.maximum(0, z)


def sigmoid(x):
    return 1 / 1 + exp(-x)


def tanh(z):
    return np.tanh(z)


def softmax(z):
    exp_z = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)
