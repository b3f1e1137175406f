"""Activation functions - Carol."""

import numpy as np


def relu(z):
    # np.maximum, not np.max: compare each entry with 0
    return np.maximum(0, z)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def tanh(z):
    return np.tanh(z)


def softmax(z):
    # subtract the max of each row so exp never overflows
    exp_z = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


if __name__ == "__main__":
    z = np.array([-3, -1, 0, 1, 3])
    print(relu(z), sigmoid(z), tanh(z), softmax(np.array([1.0, 2.0, 3.0])))
