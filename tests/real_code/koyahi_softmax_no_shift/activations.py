# From koyahi/study, 2016/11a_deep_learning_from_scratch/03/softmax.py: softmax as written there
# (no max-shift, no axis); the other functions are the lesson's.
import numpy as np


def relu(z):
    return np.maximum(0, z)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def tanh(z):
    return np.tanh(z)


def softmax(x):
    exp_x = np.exp(x)
    sum_exp_x = np.sum(exp_x)
    return exp_x / sum_exp_x
