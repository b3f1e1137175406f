import numpy as np


def softmax_temperature(z, temperature=1.0):
    scaled = z / temperature
    exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


def entropy(p):
    nonzero = np.where(p > 0, p, 1)
    return np.sum(p * np.log(nonzero), axis=-1)
