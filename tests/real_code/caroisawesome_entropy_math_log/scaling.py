# From Caroisawesome/Decision-Trees, impurity.py: entropy(data) as written there (math.log in a
# loop); softmax_temperature is the lesson's.
import math

import numpy as np


def softmax_temperature(z, temperature=1.0):
    scaled = z / temperature
    exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


# data: array of probabilities ?
def entropy(data):
    ent = 0
    for p in data:
        ent += -1 * p * (math.log(p))
    return ent
