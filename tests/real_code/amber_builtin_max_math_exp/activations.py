# From iamBijoyKar/amber, amber/activation.py: relu and sigmoid as written there (Python's max
# and math.exp, made for one number); tanh and softmax are the lesson's.
import math

import numpy as np


def relu(x:float):
    return max(x,0)

def sigmoid(x:float):
    return (1/(1+math.exp(-x)))


def tanh(z):
    return np.tanh(z)


def softmax(z):
    exp_z = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)
