"""Samples a student's functions next to the reference for the feedback page's plots.

The samples go through the same sandboxed session as the tests, so a crash or a timeout shows as
a note under the plot's title instead of a plot.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, fields
from typing import Any, Callable

import numpy as np

from grader.records import Curve
from grader.sandbox.client import Session

Z_GRID = np.linspace(-6.0, 6.0, 61)
LESSON_LOGITS = np.array([1.0, 2.0, 3.0])
BIG_LOGITS = np.array([1000.0, 1001.0, 1002.0])
SCALES = np.logspace(-2, 2, 17)
Q_VALUES = np.array([1.0, 3.0, 2.5, 0.0])


@dataclass(frozen=True)
class PlotSpec:
    """One plot: which function, drawn how, on which input."""

    exercise: str
    function: str
    kind: str
    x: np.ndarray


PLOTS = (
    PlotSpec("activations", "relu", "line", Z_GRID),
    PlotSpec("activations", "sigmoid", "line", Z_GRID),
    PlotSpec("activations", "tanh", "line", Z_GRID),
    PlotSpec("activations", "softmax", "bars", LESSON_LOGITS),
    PlotSpec("leaky_relu", "leaky_relu", "line", Z_GRID),
    PlotSpec("softmax_debug", "softmax", "bars", BIG_LOGITS),
    PlotSpec("scaling", "softmax_temperature", "entropy", SCALES),
    PlotSpec("softmax_properties", "boltzmann_policy", "bars", Q_VALUES),
    PlotSpec("softmax_properties", "boltzmann_policy", "entropy", SCALES),
)


def sample(session: Session, reference: Callable[[str], types.ModuleType],
           exercises: tuple[str, ...]) -> list[dict[str, Any]]:
    """Curves (as JSON-ready dicts) for every plot whose exercise is graded and submitted."""
    curves = []
    for spec in PLOTS:
        if spec.exercise not in exercises or spec.exercise not in session.sources:
            continue
        ref = getattr(reference(spec.exercise), spec.function)
        expected = _values(spec, ref)
        got, note = _student_values(session, spec)
        curve = Curve(exercise=spec.exercise, function=spec.function, kind=spec.kind,  # type: ignore[arg-type]
                      x=_floats(spec.x if spec.kind != "bars" else np.arange(spec.x.size)),
                      reference=_floats(expected), student=got, note=note)
        # Shallow: asdict would deep-copy every tuple of floats, a visible cost per submission.
        curves.append({f.name: getattr(curve, f.name) for f in fields(curve)})
    return curves


def _values(spec: PlotSpec, func: Callable[..., Any]) -> np.ndarray:
    if spec.kind == "entropy":
        # Entropy of softmax(z / T) over the scale 1/T: flat for small scales, peaked for large ones.
        rows = np.stack([func(LESSON_LOGITS, 1.0 / s) for s in spec.x])
        return _entropy(rows)
    return np.asarray(func(spec.x), dtype=float)


def _student_values(session: Session, spec: PlotSpec) -> tuple[tuple[float, ...] | None, str]:
    calls = [((LESSON_LOGITS, float(1.0 / s)) if spec.kind == "entropy" else (spec.x,))
             for s in (spec.x if spec.kind == "entropy" else [0])]
    values = []
    # One round trip for all of a plot's calls; one by one only if that gave no answer.
    answers = session.call_many(spec.exercise, spec.function, [(args, {}) for args in calls])
    for n, args in enumerate(calls):
        result = answers[n] if answers else session.call(spec.exercise, spec.function, args, {})
        if not result.ok:
            return None, result.message
        try:
            array = np.asarray(result.value, dtype=float)
        except (TypeError, ValueError):
            return None, f"{spec.function}() did not return numbers"
        values.append(array)
    if spec.kind == "entropy":
        if any(v.shape != LESSON_LOGITS.shape for v in values):
            return None, "softmax_temperature() returned the wrong shape"
        return _floats(_entropy(np.stack(values))), ""
    if values[0].shape != spec.x.shape:
        return None, f"{spec.function}() returned shape {values[0].shape}, expected {spec.x.shape}"
    return _floats(values[0]), ""


def _entropy(rows: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        logs = np.where(rows > 0, np.log(np.where(rows > 0, rows, 1.0)), 0.0)
        return np.asarray(-(rows * logs).sum(axis=-1))


def _floats(values: np.ndarray) -> tuple[float, ...]:
    # Six significant digits are plenty for a plot and keep results.json small.
    return tuple(float(f"{v:.6g}") if math.isfinite(float(v)) else float("nan")
                 for v in np.ravel(values))
