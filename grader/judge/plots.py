"""Samples a student's functions next to the reference for the feedback page's plots.

Which plots there are is the course's to say (grader.exercise_spec): a function called on x
values, drawn as a line or as bars, its outputs turned into the plotted values by a function of
the course's own when the plot names a transform. The samples go through the same sandboxed
session as the tests, so a crash or a timeout shows as a note under the plot's title instead of a
plot.

A student's wheel has no reference/: the reference curves come from CURVES_FILE instead, values
computed from the reference when that wheel was built (see hatch_build.py).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import math
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from grader import exercise_spec, paths
from grader.exercise_spec import Grid, PlotSpec
from grader.judge.proxy import Answers
from grader.errors import CourseError
from grader.records import CallResult, Curve
from grader.sandbox.session import Session

#: The reference curves of a student's wheel, relative to the course root (see hatch_build.py).
CURVES_FILE = "expected/curves.json"

Pair = tuple[tuple[float, ...], tuple[float, ...]]
"""A reference curve: its x values and the reference's values there."""


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
        """floats(values), converted once per distinct array."""
        key = (number, values.dtype.str.encode() + repr(values.shape).encode() + values.tobytes())
        found = self.student.get(key)
        if found is None:
            if len(self.student) >= self.LIMIT:
                self.student.clear()
            found = self.student[key] = floats(values)
        return found


def planned_calls(exercises: tuple[str, ...]) -> list[tuple[str, str, tuple[object, ...]]]:
    """(exercise, function, args) of every call the plots make: fetched with the tests' calls."""
    return [(spec.exercise, spec.function, args) for spec in exercise_spec.plots()
            if spec.exercise in exercises for args in _calls(spec)]


def sample(session: Session, reference: Callable[[str], types.ModuleType],
           exercises: tuple[str, ...], answers: Callable[[str], Answers | None] = lambda _: None,
           cache: PlotCache | None = None) -> list[dict[str, Any]]:
    """Curves (as JSON-ready dicts) for every plot whose exercise is graded and submitted.

    `answers(exercise)`: the answers fetched ahead for that exercise, if any.
    """
    cache = cache or PlotCache()
    curves = []
    for number, spec in enumerate(exercise_spec.plots()):
        if spec.exercise not in exercises or spec.exercise not in session.sources:
            continue
        found = _reference_curve(number, spec, reference, cache)
        if found is None:
            continue
        x, ref = found
        got, note = _student_values(session, spec, answers(spec.exercise), cache, number)
        curve = Curve(exercise=spec.exercise, function=spec.function, kind=spec.kind,
                      x=x, reference=ref, student=got, note=note)
        # Shallow: asdict would deep-copy every tuple of floats, a visible cost per submission.
        curves.append({f.name: getattr(curve, f.name) for f in fields(curve)})
    return curves


def reference_curves(reference: Callable[[str], types.ModuleType],
                     root: Path | None = None) -> dict[str, Pair]:
    """Every plot's reference curve by PlotSpec.name: what CURVES_FILE holds. `root`: the
    course folder (the course in use by default)."""
    return {spec.name: _curve_of(spec, reference(spec.exercise))
            for spec in exercise_spec.plots(root)}


def _curve_of(spec: PlotSpec, module: types.ModuleType) -> Pair:
    func = getattr(module, spec.function)
    outputs = [np.asarray(func(*args), dtype=float) for args in _calls(spec)]
    expected = _plotted(spec, outputs)
    x = _x_values(spec.x)
    return floats(x if spec.kind != "bars" else np.arange(expected.size)), floats(expected)


def _reference_curve(number: int, spec: PlotSpec, reference: Callable[[str], types.ModuleType],
                     cache: PlotCache) -> Pair | None:
    """The reference's curve for plot `number`; None when neither the reference nor the values
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


@functools.cache
def _x_values(grid: Grid) -> np.ndarray:
    if grid.spacing == "linspace":
        return np.linspace(grid.start, grid.stop, grid.count)
    if grid.spacing == "logspace":
        return np.logspace(grid.start, grid.stop, grid.count)
    return np.asarray(grid.values, dtype=float)


def _argument(value: object) -> object:
    # The spec keeps lists as tuples (it must stay hashable); the functions get float arrays.
    return np.asarray(value, dtype=float) if isinstance(value, tuple) else value


@functools.cache
def _calls(spec: PlotSpec) -> list[tuple[object, ...]]:
    """The argument tuples of the plot's calls, x put at its place among the others. Cached:
    the calls of a plot are the same for every submission."""
    x = _x_values(spec.x)
    before = tuple(_argument(a) for a in spec.args[:spec.x_position])
    after = tuple(_argument(a) for a in spec.args[spec.x_position:])
    points: list[object] = [float(v) for v in x] if spec.each else [x]
    return [before + (point,) + after for point in points]


def _plotted(spec: PlotSpec, outputs: list[np.ndarray]) -> np.ndarray:
    """The y values of the plot from the outputs of its calls (one per call)."""
    data = np.stack(outputs) if spec.each else outputs[0]
    if not spec.transform:
        return data
    with np.errstate(all="ignore"):
        return np.asarray(transform_of(spec)(data), dtype=float)


_TRANSFORMS: dict[tuple[Path, str], Callable[[np.ndarray], object]] = {}


def transform_of(spec: PlotSpec) -> Callable[[np.ndarray], object]:
    """The course function a plot's `transform` names, loaded from exercises/shared/."""
    key = (spec.shared, spec.transform)
    found = _TRANSFORMS.get(key)
    if found is None:
        name, _, attribute = spec.transform.partition(":")
        function = getattr(_shared_module(spec.shared, name), attribute, None)
        if not callable(function):
            raise CourseError(f"{spec.source}: transform '{spec.transform}': {name} has no "
                              f"function {attribute}")
        found = _TRANSFORMS[key] = function
    return found


@functools.cache
def _shared_module(shared: Path, name: str) -> types.ModuleType:
    """The module `name` of a course's shared folder, loaded from its file under a name of its
    own: a process may hold two courses (a check next to a grading run), or another module of
    that name."""
    folder = str(shared)
    # The judge puts the course's shared folder on sys.path, for the modules there to import
    # each other; this covers the callers that do not (the wheel build, a check run in this
    # process). Appended, so it shadows nothing installed.
    if folder not in sys.path:
        sys.path.append(folder)
    file = shared / (name.replace(".", "/") + ".py")
    if not file.is_file():
        file = shared / name.replace(".", "/") / "__init__.py"
    unique = f"_course_shared_{hashlib.sha256(folder.encode()).hexdigest()[:12]}_{name}"
    found = importlib.util.spec_from_file_location(unique, file)
    if found is None or found.loader is None:
        raise CourseError(f"{file}: cannot be loaded as a module")
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


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
    outputs = []
    for result in _results(session, spec, _calls(spec), fetched):
        if not result.ok:
            return None, _failed_note(result, spec)
        try:
            array = np.asarray(result.value, dtype=float)
        except (TypeError, ValueError):
            return None, f"{spec.function}() did not return numbers"
        outputs.append(array)
    x = _x_values(spec.x)
    if not spec.each and not spec.transform and outputs[0].shape != x.shape:
        return None, f"{spec.function}() returned shape {outputs[0].shape}, expected {x.shape}"
    if any(o.shape != outputs[0].shape for o in outputs):
        return None, f"{spec.function}() returned the wrong shape"
    try:
        values = _plotted(spec, outputs)
    except (ArithmeticError, TypeError, ValueError):
        return None, f"{spec.function}() returned values that could not be plotted"
    if values.shape != x.shape:
        return None, f"{spec.function}() returned the wrong shape"
    return cache.floats(number, values), ""


def _failed_note(result: CallResult, spec: PlotSpec) -> str:
    """A failed call's message; for an answer too big to send back, with the shape due where the
    plot's calls say it (one call on the whole of x, its outputs plotted as they are)."""
    if result.kind == "too_big" and not spec.each and not spec.transform:
        return f"{result.message}; expected shape {_x_values(spec.x).shape}"
    return result.message


def floats(values: np.ndarray) -> tuple[float, ...]:
    """The values as a curve holds them: finite ones to six significant digits, the others nan."""
    # Six significant digits are plenty for a plot and keep results.json small.
    return tuple(float(f"{v:.6g}") if math.isfinite(float(v)) else float("nan")
                 for v in np.ravel(values))
