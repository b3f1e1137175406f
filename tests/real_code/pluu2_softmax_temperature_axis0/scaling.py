# From pluu2/MLhelper, attention.py: softmaxT as written there (divided by the temperature, no
# max-shift, the sum down axis 0); entropy is the lesson's.
import numpy as np


def softmax_temperature(logits,temperature=1): #default temperature is 1
  return np.exp(logits/temperature) / np.sum(np.exp(logits/temperature), axis=0)


def entropy(p):
    terms = np.zeros_like(p, dtype=float)
    terms[p > 0] = p[p > 0] * np.log(p[p > 0])
    return -np.sum(terms, axis=-1)
