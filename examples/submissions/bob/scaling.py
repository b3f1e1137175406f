import numpy as np


def softmax_temperature(z, temperature=1.0):
    scaled = z / temperature
    exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


def entropy(p):
    safe_p = np.where(p > 0, p, 1.0)  # log(1) = 0, so zeros add nothing
    return -np.sum(p * np.log(safe_p), axis=-1)
