# From thomaschangsf/gratia, 02_ml/techniques/foundations/MLMastery/probability_for_machine_learning
# /code/chapter_23/05_entropy_labels.py: entropy as written there (math.log2 in a loop);
# softmax_temperature is the lesson's.
from math import log2

import numpy as np


def softmax_temperature(z, temperature=1.0):
    scaled = z / temperature
    exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


# calculate entropy
def entropy(p):
	return -sum([p[i] * log2(p[i]) for i in range(len(p))])
