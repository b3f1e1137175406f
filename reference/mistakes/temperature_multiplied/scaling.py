import numpy as np


def softmax_temperature(z, temperature=1.0):
    scaled = z * temperature
    exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


def entropy(p):
    terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0)
    return -np.sum(terms, axis=-1)
