# From alberto467/CI2025_project, src/utils.py: softmax with a temperature as written there (the
# maximum and the sum of the whole array); entropy is the lesson's.
import numpy as np


def softmax_temperature(x, temp=1.0):
    e_x = np.exp((x - np.max(x)) / temp)
    return e_x / e_x.sum()


def entropy(p):
    terms = np.zeros_like(p, dtype=float)
    terms[p > 0] = p[p > 0] * np.log(p[p > 0])
    return -np.sum(terms, axis=-1)
