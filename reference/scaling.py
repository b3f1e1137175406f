"""Reference solutions for the scaling exercise: softmax temperature and entropy."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def softmax_temperature(z: ArrayLike, temperature: float = 1.0) -> FloatArray:
    """softmax(z / temperature) over the last axis."""
    x = np.asarray(z, dtype=np.float64) / temperature
    if x.ndim == 0:
        return np.ones_like(x)
    # A small temperature turns logits of 100 into 1e5; the per-row max shift keeps that finite.
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def entropy(p: ArrayLike) -> FloatArray:
    """Shannon entropy -sum p log p in nats over the last axis, with 0 log 0 = 0.

    A 1-D p gives a 0-d result; a 2-D p gives one entropy per row.
    """
    q = np.asarray(p, dtype=np.float64)
    # log is only taken where p > 0, so zeros contribute exactly 0 and nothing warns;
    # 0.0 - sum (rather than -sum) reports a certain outcome as 0.0, not -0.0.
    logs = np.log(np.where(q > 0, q, 1.0))
    return np.asarray(0.0 - np.sum(np.where(q > 0, q * logs, 0.0), axis=-1))
