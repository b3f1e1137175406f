"""Reference solutions for the leaky_relu exercise."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def leaky_relu(z: ArrayLike, alpha: float = 0.01) -> FloatArray:
    """z where z > 0, alpha * z elsewhere, element by element."""
    x = np.asarray(z, dtype=np.float64)
    return np.where(x > 0, x, alpha * x)


def relu_grad(z: ArrayLike) -> FloatArray:
    """Derivative of ReLU: 1.0 where z > 0, else 0.0 (0 at z = 0 by convention)."""
    return (np.asarray(z, dtype=np.float64) > 0).astype(np.float64)
