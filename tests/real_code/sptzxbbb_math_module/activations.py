# From sptzxbbb/DeepLearning, assignment/week1/question1.py: sigmoid, tanh and relu as written
# there (methods of a class there, functions here); softmax is the lesson's.
import math

import numpy as np


def sigmoid(x):
    return 1 / (1 + math.exp(-x))

def tanh(x):
    return (math.exp(x) - math.exp(-x)) / (math.exp(x) + math.exp(-x))

def relu(x):
    return max(x, 0)


def softmax(z):
    exp_z = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)
