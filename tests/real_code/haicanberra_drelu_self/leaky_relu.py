# From haicanberra/Neural-Network-From-Scratch, activation.py: drelu as written there (it reads
# self.z in a plain function); leaky_relu is the lesson's.
import numpy as np


def leaky_relu(z, alpha=0.01):
    return np.where(z > 0, z, alpha * z)


def relu_grad(dy):
    dz = np.copy(dy)
    dz[self.z<0] = 0
    dz[self.z>=0] = 1
    return dz
