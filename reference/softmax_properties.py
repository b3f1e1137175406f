"""Reference solutions for the softmax_properties exercise (Gao & Pavel, arXiv 1704.00805).

`softmax` is a helper for the hidden suite: the gradient of logsumexp and the Lipschitz bound
are checked against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: the module also runs where numpy.typing is unavailable
    from numpy.typing import ArrayLike, NDArray

    FloatArray = NDArray[np.float64]


def softmax(z: ArrayLike) -> FloatArray:
    """e^z_i / sum_j e^z_j over the last axis."""
    x = np.asarray(z, dtype=np.float64)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    result: FloatArray = e / np.sum(e, axis=-1, keepdims=True)
    return result


def logsumexp(z: ArrayLike) -> FloatArray:
    """log(sum_j e^z_j) over the last axis: 0-d for a vector, one value per row for a batch."""
    x = np.asarray(z, dtype=np.float64)
    # log sum e^z = m + log sum e^(z - m): every exponent is <= 0 and one term is exactly 1,
    # so the sum lies in [1, n] and neither overflows nor underflows to log(0).
    m = np.max(x, axis=-1, keepdims=True)
    total = m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))
    return np.asarray(np.squeeze(total, axis=-1))


def boltzmann_policy(q_values: ArrayLike, temperature: float = 1.0) -> FloatArray:
    """softmax(q / temperature) over the actions (last axis), for one state or a batch."""
    return softmax(np.asarray(q_values, dtype=np.float64) / temperature)


def softmax_lipschitz_bound(inverse_temperature: float) -> float:
    """Gao & Pavel: softmax(λ z) is λ-Lipschitz in the Euclidean norm."""
    return float(inverse_temperature)
