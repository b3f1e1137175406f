# From armlynobinguar/Reinforcement-Learning-101, 08_Bandits/exploration_strategies/boltzmann.py:
# the probabilities of select_action as written there (no max-shift, one sum over the whole
# array); logsumexp and softmax_lipschitz_bound are the lesson's.
import numpy as np


def logsumexp(z):
    m = np.max(z, axis=-1)
    return m + np.log(np.sum(np.exp(z - m[..., None]), axis=-1))


def boltzmann_policy(q_values, temperature=1.0):
    # Compute probabilities using softmax
    exp_values = np.exp(q_values / temperature)
    probs = exp_values / np.sum(exp_values)
    return probs


def softmax_lipschitz_bound(inverse_temperature):
    return float(inverse_temperature)
