# From Lighdek/Datalogi-504e17-Mirror, activation_functions.py: relu, sigmoid ("sigmod" there)
# and tanh as written there; softmax is the lesson's.
import numpy
import math

import numpy as np

euler = 2.7182818284590452353602874713527

def relu(x):
    return max(0,x)

def sigmoid(x):
    return 1/1+ math.pow(euler,-x)

def tanh(x):
    return pow(euler,x)-pow(euler,-x) / pow(euler,x) + pow(euler,-x)


def softmax(z):
    exp_z = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)
