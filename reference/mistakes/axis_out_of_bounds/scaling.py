import numpy as np


def softmax_temperature(z, temperature=1.0):
    scaled = z / temperature
    exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


def entropy(p):
    terms = np.zeros_like(p, dtype=float)
    terms[p > 0] = p[p > 0] * np.log(p[p > 0])
    return -np.sum(terms, axis=1)
