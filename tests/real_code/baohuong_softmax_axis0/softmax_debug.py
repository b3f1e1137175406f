# From BaoHuong/Parallel_CRNN, src/activation.py: softmax as written there (the maximum of the
# whole array, the sum down axis 0).
import numpy as np


def softmax(x):
    exp_x = np.exp(x - np.max(x))
    return exp_x / exp_x.sum(axis=0)
