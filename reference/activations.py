"""Reference solutions for the activations exercise.

Written for accuracy rather than brevity: every function works in float64 (so integer input
gives float output), never warns, and stays exact for |z| up to 1e4 and beyond.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def relu(z: ArrayLike) -> FloatArray:
    """max(0, z), element by element."""
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)


def sigmoid(z: ArrayLike) -> FloatArray:
    """1 / (1 + e^-z), element by element."""
    x = np.asarray(z, dtype=np.float64)
    # e^-|z| never overflows; for z < 0 the algebraically equal e^z / (1 + e^z) avoids the
    # overflow of e^-z that the textbook form runs into.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def tanh(z: ArrayLike) -> FloatArray:
    """(e^z - e^-z) / (e^z + e^-z), element by element."""
    return np.tanh(np.asarray(z, dtype=np.float64))


def softmax(z: ArrayLike) -> FloatArray:
    """e^z_i / sum_j e^z_j over the last axis: a vector, or each row of a batch."""
    x = np.asarray(z, dtype=np.float64)
    if x.ndim == 0:
        # A single score is a one-class distribution.
        return np.ones_like(x)
    # Softmax is unchanged by shifting each row; shifting by the row's own max keeps e^x <= 1
    # and makes at least one term exactly 1, so there is neither overflow nor 0 / 0.
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
