import numpy as np


def logsumexp(z):
    m = np.max(z, axis=-1, keepdims=True)
    return np.squeeze(m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True)), axis=-1)


def boltzmann_policy(q_values, temperature=1.0):
    if temperature < 0.01:
        # practically greedy: all the probability on the best action
        greedy = np.zeros(q_values.shape)
        best = np.argmax(q_values, axis=-1)
        np.put_along_axis(greedy, np.expand_dims(best, -1), 1.0, axis=-1)
        return greedy
    scaled = q_values / temperature
    exp_q = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))
    return exp_q / np.sum(exp_q, axis=-1, keepdims=True)


def softmax_lipschitz_bound(inverse_temperature):
    return inverse_temperature
