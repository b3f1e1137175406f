# From hirokishinoda/DeeplearningForScratch, ch3/functions.py: softmax as written there (the
# maximum and the sum of the whole array).
import numpy as np


def softmax(x):
    c = np.max(x) # オーバーフロー対策
    exp_x = np.exp(x - c)
    sum_exp_x = np.sum(exp_x)
    y = exp_x / sum_exp_x

    return y
