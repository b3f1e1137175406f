"""Exercise (debugging): this softmax works for small scores but breaks for large ones.

Try it:
    >>> softmax(np.array([1.0, 2.0, 3.0]))        # fine
    >>> softmax(np.array([1000.0, 1001.0, 1002.0]))  # nan, and a RuntimeWarning

Find the numerical-stability bug and fix it. The fixed function must:
- give the same answers as now for small scores,
- stay finite and correct for large scores, positive ([1000, 1001, 1002]) and negative
  ([-1000, -1000]), up to |z| = 10_000,
- keep working on a 2-D batch, one softmax per row, even when the rows sit at very different
  scales,
- return a NumPy array with the shape of z and leave z itself unchanged.
"""

import numpy as np


def softmax(z):
    """Softmax over the last axis: a probability vector for 1-D z, one per row for 2-D z."""
    exp_z = np.exp(z)
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)
