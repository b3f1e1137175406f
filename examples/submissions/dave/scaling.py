"""Exercise: how the scale of the logits shapes softmax - temperature and entropy.

Rules for every function in this file:
- Inputs are NumPy arrays, 1-D (one vector) or 2-D (a batch, one vector per row),
  floats or integers.
- Do not change the arguments: build new arrays.
- softmax_temperature must stay finite for a temperature as small as 0.001 with logits up
  to 100 in size.

Replace each `raise NotImplementedError(...)` with your code. Run the public checks with
`pytest` in this folder.
"""

import numpy as np


def softmax_temperature(z, temperature=1.0):
    """softmax(z / temperature) over the last axis.

    temperature = 1 is the plain softmax; a small temperature makes the distribution peakier
    (closer to picking the largest logit), a large one makes it flatter (closer to uniform).
    Returns an array with the shape of z.
    """
    raise NotImplementedError("softmax_temperature: write your implementation here")


def entropy(p):
    """Shannon entropy H(p) = -sum_i p_i * log(p_i), in nats (natural log), with 0 * log 0 = 0.

    1-D p (one probability vector) -> a single number.
    2-D p (one distribution per row) -> a 1-D array with one entropy per row.

    >>> entropy(np.array([0.25, 0.25, 0.25, 0.25]))   # log(4)
    1.3862943611198906
    """
    raise NotImplementedError("entropy: write your implementation here")
