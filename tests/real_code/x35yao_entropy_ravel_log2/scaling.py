# From x35yao/ml-from-scratch, src/mlscratch/utils/metrics.py: entropy as written there
# (flattened, log2); softmax_temperature is the lesson's.
import numpy as np


def softmax_temperature(z, temperature=1.0):
    scaled = z / temperature
    exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


def entropy(p):
    p = np.asarray(p, dtype=float).ravel()
    m = p > 0  # mask to avoid log(0)
    return -np.sum(p[m] * np.log2(p[m]))  # use log2 for bits
