import numpy as np


def softmax_temperature(z, temperature=1.0):
    scaled = z / temperature
    exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


def entropy(p):
    return -np.sum([q * np.log(q) for q in p if q > 0])
