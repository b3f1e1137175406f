"""What the feedback plots of this course draw that a function does not return itself.

Named by the `transform` of a plot in an exercise.toml; the judge calls it on a function's
outputs (the reference's and each student's) and plots what it returns.
"""

from __future__ import annotations

import numpy as np


def entropy(rows: np.ndarray) -> np.ndarray:
    """Entropy in nats of each row of probabilities, with 0 * log 0 counted as 0.

    A student's rows may hold anything (negative, nan or huge entries): the sum then gives what
    it gives, with no warning and no error, and the plot shows it.
    """
    rows = np.asarray(rows, dtype=float)
    with np.errstate(all="ignore"):
        logs = np.where(rows > 0, np.log(np.where(rows > 0, rows, 1.0)), 0.0)
        return np.asarray(-(rows * logs).sum(axis=-1))
