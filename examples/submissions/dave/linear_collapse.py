"""Exercise: without activations, two linear layers collapse into one.

W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2) = A x + c.

Rules for every function in this file:
- W1 has shape (h, n), b1 shape (h,), W2 shape (m, h), b2 shape (m,), x shape (n,):
  the first layer maps n inputs to h hidden units, the second maps those to m outputs.
- The arrays may hold floats or integers. Do not change them: build new arrays.

Replace each `raise NotImplementedError(...)` with your code. Run the public checks with
`pytest` in this folder.
"""

import numpy as np


def collapse_linear(W1, b1, W2, b2):
    """The single layer (A, c) that computes the same as the two linear layers.

    Return the pair `A, c` (a tuple of two NumPy arrays): A of shape (m, n) and c of shape
    (m,), such that A @ x + c == W2 @ (W1 @ x + b1) + b2 for every x.
    """
    raise NotImplementedError("collapse_linear: write your implementation here")


def relu_breaks_collapse(W1, b1, W2, b2, x):
    """Whether putting a ReLU between the layers changes the output at this x.

    Return True when W2 @ relu(W1 @ x + b1) + b2 differs from A @ x + c in any entry
    (A, c as in collapse_linear), False when the two outputs are equal.
    """
    raise NotImplementedError("relu_breaks_collapse: write your implementation here")
