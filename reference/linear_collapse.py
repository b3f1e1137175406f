"""Reference solutions for the linear_collapse exercise: two linear layers are one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: the module also runs where numpy.typing is unavailable
    from numpy.typing import ArrayLike, NDArray

    FloatArray = NDArray[np.float64]


def collapse_linear(W1: ArrayLike, b1: ArrayLike, W2: ArrayLike,
                    b2: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(A, c) with W2 (W1 x + b1) + b2 = A x + c for every x: A = W2 W1, c = W2 b1 + b2."""
    w1, w2 = np.asarray(W1, dtype=np.float64), np.asarray(W2, dtype=np.float64)
    A = w2 @ w1
    c = w2 @ np.asarray(b1, dtype=np.float64) + np.asarray(b2, dtype=np.float64)
    return A, c


def relu_breaks_collapse(W1: ArrayLike, b1: ArrayLike, W2: ArrayLike, b2: ArrayLike,
                         x: ArrayLike) -> bool:
    """Whether W2 relu(W1 x + b1) + b2 differs from A x + c (in any entry) at this x."""
    w1, w2 = np.asarray(W1, dtype=np.float64), np.asarray(W2, dtype=np.float64)
    v = np.asarray(x, dtype=np.float64)
    hidden = w1 @ v + np.asarray(b1, dtype=np.float64)
    with_relu = w2 @ np.maximum(hidden, 0.0) + np.asarray(b2, dtype=np.float64)
    A, c = collapse_linear(W1, b1, W2, b2)
    # Both sides are sums of the same products in a different order: equal up to rounding.
    return not bool(np.allclose(with_relu, A @ v + c, rtol=1e-9, atol=1e-9))
