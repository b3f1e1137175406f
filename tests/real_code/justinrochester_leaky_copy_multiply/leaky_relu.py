# From JustinRochester/torch-CNN, CNN-practice/CNNs/CNN/Activations/LeakyRelu_1e_1.py: the
# forward pass as written there (a fixed slope of 0.1, multiplied into a copy of x), with the
# exercise's alpha parameter added and left unused; relu_grad is the lesson's.
import numpy as np


def leaky_relu(x, alpha=0.01):
    y = np.copy(x)
    y[y < 0] *= 0.1
    return y


def relu_grad(z):
    return (z > 0).astype(float)
