# From theophilec/oco-project, src/utils.py: softmax as written there (no max-shift, one sum over
# the whole array).
import numpy as np


def softmax(x):
    return np.exp(x) / np.exp(x).sum()
