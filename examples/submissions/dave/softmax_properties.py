"""Exercise: properties of softmax from Gao & Pavel, "On the Properties of the Softmax Function
with Application in Game Theory and Reinforcement Learning" (arXiv 1704.00805).

Rules for every function in this file:
- z and q_values are NumPy arrays, 1-D (one vector) or 2-D (a batch, one vector per row),
  floats or integers. Work along the last axis. Do not change them: build new arrays.
- logsumexp and boltzmann_policy must stay finite and correct for very large inputs:
  |z| up to 10_000, and a temperature as small as 0.001 with Q-values up to 100.

Replace each `raise NotImplementedError(...)` with your code. Run the public checks with
`pytest` in this folder.
"""

import numpy as np


def logsumexp(z):
    """log(sum_j e^(z_j)) over the last axis, computed without overflow.

    1-D z -> a single number (a float or a 0-d array).
    2-D z -> a 1-D array with one value per row.

    Its gradient is softmax(z).

    >>> logsumexp(np.array([1.0, 2.0, 3.0]))
    3.40760596444438
    """
    raise NotImplementedError("logsumexp: write your implementation here")


def boltzmann_policy(q_values, temperature=1.0):
    """The Boltzmann (softmax) policy: softmax(q_values / temperature) over the actions.

    1-D q_values (one state) -> one probability per action.
    2-D q_values (one state per row) -> one policy per row.

    As temperature -> 0 the policy becomes greedy (ties split evenly); as temperature grows it
    becomes uniform.
    """
    raise NotImplementedError("boltzmann_policy: write your implementation here")


def softmax_lipschitz_bound(inverse_temperature):
    """The Lipschitz constant L that Gao & Pavel prove for softmax with inverse temperature λ:

        ||softmax(λ x) - softmax(λ y)|| <= L * ||x - y||   for all x, y (Euclidean norm).

    Return L as a number, for the λ given.
    """
    raise NotImplementedError("softmax_lipschitz_bound: write your implementation here")
