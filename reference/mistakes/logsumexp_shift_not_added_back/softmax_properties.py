import numpy as np


def logsumexp(z):
    m = np.max(z, axis=-1, keepdims=True)
    return np.log(np.sum(np.exp(z - m), axis=-1))


def boltzmann_policy(q_values, temperature=1.0):
    scaled = q_values / temperature
    exp_q = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_q / np.sum(exp_q, axis=-1, keepdims=True)


def softmax_lipschitz_bound(inverse_temperature):
    return inverse_temperature
