"""Exercise: Leaky ReLU and the gradient of ReLU (the "dead ReLU" problem).

Rules for every function in this file:
- z is a NumPy array of any shape, floats or integers (e.g. np.array([-3, -1, 0, 1, 3])).
- Return a NumPy array with the shape of z (not a list, not a single number).
- Do not change z itself: build a new array.

Replace each `raise NotImplementedError(...)` with your code. Run the public checks with
`pytest` in this folder.
"""

import numpy as np


def leaky_relu(z, alpha=0.01):
    """Leaky ReLU: z where z > 0, alpha * z elsewhere.

    Integer input must still give the fractional negative part:
    >>> leaky_relu(np.array([-3, -1, 0, 1, 3]))
    array([-0.03, -0.01,  0.  ,  1.  ,  3.  ])
    """
    raise NotImplementedError("leaky_relu: write your implementation here")


def relu_grad(z):
    """Derivative of ReLU with respect to z: 1.0 where z > 0, else 0.0 (so 0.0 at z = 0).

    >>> relu_grad(np.array([-5.0, -3.0, -2.0, -1.0]))
    array([0., 0., 0., 0.])
    """
    raise NotImplementedError("relu_grad: write your implementation here")
