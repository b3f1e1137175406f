# From Anuki-UCSC/MachineLearning_Basic, decision_trees/decision_Tree.py: the last line of
# entropy as written there (a loop with an if over the probabilities, log2), given p itself;
# softmax_temperature is the lesson's.
import numpy as np


def softmax_temperature(z, temperature=1.0):
    scaled = z / temperature
    exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)


def entropy(ps):
    return -np.sum([p * np.log2(p) for p in ps if p >0])
