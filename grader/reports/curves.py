"""Reading a Curve: where a student's values part from the reference, in numbers and in words.

The plots shade these places and the page states them in a sentence, so a reader who cannot see
the picture (or its colours) learns the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

from grader import exercise_spec
from grader.records import Curve

ATOL, RTOL = 1e-8, 1e-5
"""Same closeness rule as numpy.allclose, so a shaded band means the values really differ."""
LIMIT = 1e12
"""Values beyond this size are drawn as off the chart: arithmetic on 1e308 overflows the axes."""


@dataclass(frozen=True)
class Axes:
    """How a curve's axes are named and scaled: what the course's plot of it says."""

    x_label: str
    """The x axis's name; for bars, what one bar stands for (e.g. 'item')."""
    y_label: str
    """The y axis's name."""
    log_x: bool
    """Whether the x axis is logarithmic."""


def axes_of(curve: Curve) -> Axes:
    """The axes of the course's plot of this function and kind; plain ones for a curve the course
    does not plot (one from an older results.json, say)."""
    spec = exercise_spec.plot_for(curve.exercise, curve.function, curve.kind)
    if spec is not None:
        return Axes(spec.x_label, spec.y_label, spec.log_x)
    if curve.kind == "bars":
        return Axes("entry", "value", False)
    return Axes("x", f"{curve.function}(x)", False)


def plural(noun: str) -> str:
    """English plural of a label's last word, for sentences such as 'for boxes 0 to 2'."""
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return noun[:-1] + "ies"
    return noun + "s"


def plottable(value: float) -> bool:
    return math.isfinite(value) and abs(value) <= LIMIT


def fmt_number(value: float) -> str:
    """A short human form of a number, with a true minus sign."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "−inf"
    text = "0" if value == 0 else f"{value:.4g}"
    return text.replace("-", "−")


def values_differ(reference: float, student: float) -> bool:
    """True when a student value is not close to the reference (numpy.allclose's rule)."""
    if math.isnan(reference) or math.isnan(student):
        return not (math.isnan(reference) and math.isnan(student))
    if math.isinf(reference) or math.isinf(student):
        return reference != student
    return abs(student - reference) > ATOL + RTOL * abs(reference)


def sample_points(curve: Curve, log_x: bool) -> list[tuple[float, float, float]]:
    """(x, reference, student) sorted by x, dropping x values the axis cannot show."""
    student = curve.student if curve.student is not None else (math.nan,) * len(curve.x)
    isfinite = math.isfinite
    keep = [p for p in zip(map(float, curve.x), map(float, curve.reference), map(float, student))
            if isfinite(p[0]) and abs(p[0]) <= LIMIT and (p[0] > 0 or not log_x)]
    keep.sort(key=itemgetter(0))
    return keep


def differ_flags(pts: Sequence[tuple[float, float, float]]) -> list[bool]:
    """values_differ for each (x, reference, student) point."""
    refs = [p[1] for p in pts]
    students = [p[2] for p in pts]
    if refs == students:
        # Equal element by element (a nan only equals itself): values_differ is False for all.
        return [False] * len(pts)
    return [r != s and values_differ(r, s) for r, s in zip(refs, students)]


def runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """Index ranges [i, j] of consecutive True flags."""
    runs: list[tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if flag and runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        elif flag:
            runs.append((i, i))
    return runs


def differing_ranges(curve: Curve) -> list[tuple[float, float]]:
    """The x ranges (first and last sample) where the student's values differ from the reference."""
    if curve.student is None:
        return []
    pts = sample_points(curve, log_x=False)
    return ranges_of(pts, differ_flags(pts))


def ranges_of(pts: Sequence[tuple[float, float, float]],
              flags: Sequence[bool]) -> list[tuple[float, float]]:
    """The x ranges (first and last point) of the runs of True flags."""
    return [(pts[i][0], pts[j][0]) for i, j in runs(flags)] if any(flags) else []


def describe_differences(curve: Curve, ranges: Sequence[tuple[float, float]] | None = None,
                         axes: Axes | None = None) -> str:
    """One sentence a reader without the picture can use: where the two curves part.

    ranges, when given, must be differing_ranges(curve) and axes axes_of(curve) (a caller that
    has them saves the work).
    """
    if curve.student is None:
        return ""
    name = (axes or axes_of(curve)).x_label
    ranges = differing_ranges(curve) if ranges is None else ranges
    if not ranges:
        return f"Your values match the reference at every one of the {len(curve.x)} sampled points."
    between = (f"for {plural(name)} {{}} to {{}}" if curve.kind == "bars"
               else f"for {name} from {{}} to {{}}")
    spans = [f"at {name} {fmt_number(a)}" if a == b
             else between.format(fmt_number(a), fmt_number(b)) for a, b in ranges[:6]]
    if len(ranges) > 6:
        spans.append(f"in {len(ranges) - 6} more places")
    listed = spans[0] if len(spans) == 1 else ", ".join(spans[:-1]) + " and " + spans[-1]
    bad = sum(1 for s in curve.student if not math.isfinite(s))
    extra = {0: "", 1: " One of your values is nan or inf."}.get(
        bad, f" {bad} of your values are nan or inf.")
    return f"Your values differ from the reference {listed}.{extra}"
