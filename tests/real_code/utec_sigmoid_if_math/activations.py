# From utec-pi-facerecognition/frecognition, Simple_Activation_Function.py: sigmoid as written
# there (an if on the input, math.exp); the other functions are the lesson's.
import math

import numpy as np


def relu(z):
    return np.maximum(0, z)


def sigmoid(x):
  if x < 0:
    return 1 - 1/(1 + math.exp(x))
  else:
    return 1/(1 + math.exp(-x))


def tanh(z):
    return np.tanh(z)


def softmax(z):
    exp_z = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)
