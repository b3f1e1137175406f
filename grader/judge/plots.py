"""Samples a student's functions next to the reference for the feedback page's plots.

The samples go through the same sandboxed session as the tests, so a crash or a timeout shows as
a note under the plot's title instead of a plot.

A student's wheel has no reference/: the reference curves come from CURVES_FILE instead, values
computed from the reference when that wheel was built (see hatch_build.py).
"""

from __future__ import annotations

import json
import math
import types
from dataclasses import dataclass, fields
from typing import Any, Callable, Iterator

import numpy as np

from grader import paths
from grader.judge.proxy import Answers
from grader.records import CallResult, Curve
from grader.sandbox.session import Session

Z_GRID = np.linspace(-6.0, 6.0, 61)
LESSON_LOGITS = np.array([1.0, 2.0, 3.0])
BIG_LOGITS = np.array([1000.0, 1001.0, 1002.0])
SCALES = np.logspace(-2, 2, 17)
Q_VALUES = np.array([1.0, 3.0, 2.5, 0.0])
#: The reference curves of a student's wheel, relative to the course root (see hatch_build.py).
CURVES_FILE = "expected/curves.json"

Pair = tuple[tuple[float, ...], tuple[float, ...]]
"""A reference curve: its x values and the reference's values there."""


@dataclass(frozen=True)
class PlotSpec:
    """One plot: which function, drawn how, on which input."""

    exercise: str
    """Exercise module the function lives in."""
    function: str
    """Function name, e.g. 'relu'."""
    kind: str
    """How to draw it: line, bars or entropy (see grader.records.Curve)."""
    x: np.ndarray
    """The input the function is sampled on."""

    @property
    def name(self) -> str:
        """Key of its curve in CURVES_FILE, e.g. 'activations/relu/line'."""
        return f"{self.exercise}/{self.function}/{self.kind}"


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


class PlotCache:
    """What every submission's plots share: the reference curves, and the student curves
    already converted (most students of a class give the same values)."""

    LIMIT = 4096
    """Most student curves kept; past it the cache starts afresh, so memory stays flat."""

    def __init__(self) -> None:
        self.reference: dict[int, Pair] = {}
        self.shipped: dict[str, Pair] | None = None
        """CURVES_FILE as read, when the reference itself is missing."""
        self.student: dict[tuple[int, bytes], tuple[float, ...]] = {}

    def floats(self, number: int, values: np.ndarray) -> tuple[float, ...]:
        """_floats(values), converted once per distinct array."""
        key = (number, values.dtype.str.encode() + repr(values.shape).encode() + values.tobytes())
        found = self.student.get(key)
        if found is None:
            if len(self.student) >= self.LIMIT:
                self.student.clear()
            found = self.student[key] = _floats(values)
        return found


def planned_calls(exercises: tuple[str, ...]) -> list[tuple[str, str, tuple[object, ...]]]:
    """(exercise, function, args) of every call the plots make: fetched with the tests' calls."""
    return [(spec.exercise, spec.function, args) for spec in PLOTS if spec.exercise in exercises
            for args in _calls(spec)]


def sample(session: Session, reference: Callable[[str], types.ModuleType],
           exercises: tuple[str, ...], answers: Callable[[str], Answers | None] = lambda _: None,
           cache: PlotCache | None = None) -> list[dict[str, Any]]:
    """Curves (as JSON-ready dicts) for every plot whose exercise is graded and submitted.

    `answers(exercise)`: the answers fetched ahead for that exercise, if any.
    """
    cache = cache or PlotCache()
    curves = []
    for number, spec in enumerate(PLOTS):
        if spec.exercise not in exercises or spec.exercise not in session.sources:
            continue
        found = _reference_curve(number, spec, reference, cache)
        if found is None:
            continue
        x, ref = found
        got, note = _student_values(session, spec, answers(spec.exercise), cache, number)
        curve = Curve(exercise=spec.exercise, function=spec.function, kind=spec.kind,  # type: ignore[arg-type]
                      x=x, reference=ref, student=got, note=note)
        # Shallow: asdict would deep-copy every tuple of floats, a visible cost per submission.
        curves.append({f.name: getattr(curve, f.name) for f in fields(curve)})
    return curves


def reference_curves(reference: Callable[[str], types.ModuleType]) -> dict[str, Pair]:
    """Every plot's reference curve by PlotSpec.name: what CURVES_FILE holds."""
    return {spec.name: _curve_of(spec, reference(spec.exercise)) for spec in PLOTS}


def _curve_of(spec: PlotSpec, module: types.ModuleType) -> Pair:
    expected = _values(spec, getattr(module, spec.function))
    return _floats(spec.x if spec.kind != "bars" else np.arange(spec.x.size)), _floats(expected)


def _reference_curve(number: int, spec: PlotSpec, reference: Callable[[str], types.ModuleType],
                     cache: PlotCache) -> Pair | None:
    """The reference's curve for PLOTS[number]; None when neither the reference nor the values
    shipped in its place are there (the plot is then left out)."""
    if number not in cache.reference:
        try:
            cache.reference[number] = _curve_of(spec, reference(spec.exercise))
        except FileNotFoundError:
            if cache.shipped is None:
                cache.shipped = _read_shipped()
            if spec.name not in cache.shipped:
                return None
            cache.reference[number] = cache.shipped[spec.name]
    return cache.reference[number]


def _read_shipped() -> dict[str, Pair]:
    path = paths.course_root() / CURVES_FILE
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {name: (tuple(map(float, x)), tuple(map(float, ref))) for name, (x, ref) in raw.items()}


def _values(spec: PlotSpec, func: Callable[..., Any]) -> np.ndarray:
    if spec.kind == "entropy":
        # Entropy of softmax(z / T) over the scale 1/T: flat for small scales, peaked for large ones.
        rows = np.stack([func(LESSON_LOGITS, 1.0 / s) for s in spec.x])
        return _entropy(rows)
    return np.asarray(func(spec.x), dtype=float)


def _calls(spec: PlotSpec) -> list[tuple[object, ...]]:
    if spec.kind == "entropy":
        return [(LESSON_LOGITS, float(1.0 / s)) for s in spec.x]
    return [(spec.x,)]


def _results(session: Session, spec: PlotSpec, calls: list[tuple[object, ...]],
             fetched: Answers | None) -> Iterator[CallResult]:
    """The answers to the plot's calls: fetched ahead, else in one round trip, else one by one
    (as they are read: the reader stops at the first failure)."""
    if fetched is not None:
        taken = [fetched.take(spec.function, args, {}) for args in calls]
        if all(r is not None for r in taken):
            yield from (r for r in taken if r is not None)
            return
    batch = session.call_many(spec.exercise, spec.function, [(args, {}) for args in calls])
    if batch is not None:
        yield from (batch.result(n) for n in range(len(batch)))
        return
    yield from (session.call(spec.exercise, spec.function, args, {}) for args in calls)


def _student_values(session: Session, spec: PlotSpec, fetched: Answers | None,
                    cache: PlotCache, number: int) -> tuple[tuple[float, ...] | None, str]:
    values = []
    for result in _results(session, spec, _calls(spec), fetched):
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
        return cache.floats(number, _entropy(np.stack(values))), ""
    if values[0].shape != spec.x.shape:
        return None, f"{spec.function}() returned shape {values[0].shape}, expected {spec.x.shape}"
    return cache.floats(number, values[0]), ""


def _entropy(rows: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        logs = np.where(rows > 0, np.log(np.where(rows > 0, rows, 1.0)), 0.0)
        return np.asarray(-(rows * logs).sum(axis=-1))


def _floats(values: np.ndarray) -> tuple[float, ...]:
    # Six significant digits are plenty for a plot and keep results.json small.
    return tuple(float(f"{v:.6g}") if math.isfinite(float(v)) else float("nan")
                 for v in np.ravel(values))
