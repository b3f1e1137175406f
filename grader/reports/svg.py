"""Inline SVG charts for the feedback and class pages.

Each chart is one self-contained <svg> with a viewBox and width 100%, so it shrinks to a phone's
width and prints without any script, font or file from elsewhere. Text that comes from data
(function names, numbers) is escaped here; the rest of the markup is built only from numbers and
fixed strings, which is why the result may be handed to the templates as Markup.

Most students of a class send the same values (every correct function draws the same curve), so
the feedback pages share charts through a small cache keyed by the exact bits of the data.
"""

from __future__ import annotations

import math
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from threading import Lock

from markupsafe import Markup

from grader.records import Curve
from grader.reports.curves import (
    Axes,
    axes_of,
    describe_differences,
    differ_flags,
    differing_ranges,
    fmt_number,
    plottable,
    plural,
    ranges_of,
    runs,
    sample_points,
    values_differ,
)
from grader.reports.svg_parts import (
    BOTTOM,
    DIFF_TEXT,
    REF_STROKE,
    STUDENT_STROKE,
    Frame,
    classify,
    draw_axes,
    empty,
    esc,
    f1,
    hatch,
    legend,
    log_ticks,
    marker,
    nice_ticks,
    odd_legend,
    open_svg,
    safe_text,
    y_band,
)

__all__ = ["bar_plot", "chart", "histogram", "line_plot", "safe_text"]

CACHED_CHARTS = 256
"""Charts kept for reuse by later pages: a bounded number, so memory stays flat."""


def chart(curve: Curve, uid: str) -> tuple[Markup, str]:
    """The chart of a curve and describe_differences(curve), reused when the same data was drawn
    under the same uid and axes before. The course's plot of the curve names its axes."""
    axes = axes_of(curve)
    key = _key(curve, uid, axes)
    if key is not None:
        with _LOCK:
            found = _CHARTS.get(key)
            if found is not None:
                _CHARTS.move_to_end(key)
                return found
    markup, said = (_bars if curve.kind == "bars" else _line)(curve, uid, axes)
    made = (Markup(markup), said)
    if key is not None:
        with _LOCK:
            _CHARTS[key] = made
            while len(_CHARTS) > CACHED_CHARTS:
                _CHARTS.popitem(last=False)
    return made


_CHARTS: OrderedDict[tuple[object, ...], tuple[Markup, str]] = OrderedDict()
_LOCK = Lock()


def _key(curve: Curve, uid: str, axes: Axes) -> tuple[object, ...] | None:
    """Everything a chart is drawn from, numbers as their exact bits (0.0 and -0.0 differ)."""
    try:
        student = None if curve.student is None else array("d", curve.student).tobytes()
        return (uid, axes, curve.kind, curve.exercise, curve.function,
                array("d", curve.x).tobytes(),
                array("d", curve.reference).tobytes(), student)
    except (TypeError, ValueError, OverflowError):
        return None


def line_plot(curve: Curve, *, uid: str = "") -> Markup:
    """The student's values drawn dashed over the reference's (solid) against x."""
    return Markup(_line(curve, uid, axes_of(curve))[0])


def bar_plot(curve: Curve, *, uid: str = "") -> Markup:
    """One pair of bars per entry: the reference's (outlined) next to the student's."""
    return Markup(_bars(curve, uid, axes_of(curve))[0])


def _line(curve: Curve, uid: str, axes: Axes) -> tuple[str, str]:
    # A log axis shows positive x only: with none there, the plain axis shows what there is.
    log_x = axes.log_x and any(x > 0 for x in curve.x)
    return _curve_plot(curve, uid or f"line-{curve.exercise}-{curve.function}", log_x,
                       axes.x_label + (" (log axis)" if log_x else ""), axes)


def _student_marks(pts: Sequence[tuple[float, float, float]], xs: Sequence[float],
                   xtext: Sequence[str], fr: Frame, band: tuple[float, float]) -> str:
    """The student's dashed path (broken at nan) plus markers for clipped and nan values."""
    segments: list[list[str]] = [[]]
    marks = []
    dots = len(pts) <= 60
    for (_, _, s), x, text in zip(pts, xs, xtext):
        kind, y = classify(s, fr, band)
        if kind == "nan":
            segments.append([])
        else:
            segments[-1].append(f"{text} {y:.1f}")
        if kind != "ok":
            marks.append(marker(kind, x, y + {"high": 4, "low": -4}.get(kind, -6)))
        elif dots:
            marks.append(f'<circle cx="{text}" cy="{y:.1f}" r="2.5" fill="#1d4ed8"/>')
    paths = [f'<path d="M{" L".join(seg)}" fill="none" {STUDENT_STROKE}/>'
             for seg in segments if len(seg) > 1]
    return "".join(paths) + "".join(marks)


def _diff_bands(xs: Sequence[float], flags: Sequence[bool], fr: Frame, uid: str) -> str:
    """Hatched bands, each labelled in words, over the x ranges where the values differ."""
    parts = []
    for n, (i, j) in enumerate(runs(flags)):
        a = (xs[i - 1] + xs[i]) / 2 if i > 0 else max(fr.left, xs[i] - 4)
        b = (xs[j] + xs[j + 1]) / 2 if j + 1 < len(xs) else min(fr.right, xs[j] + 4)
        parts.append(f'<rect x="{f1(a)}" y="{f1(fr.top)}" width="{f1(max(b - a, 3))}" '
                     f'height="{f1(fr.bottom - fr.top)}" fill="{hatch(uid)}" opacity="0.55"/>')
        if b - a >= 70 or n == 0:
            anchor = min(max((a + b) / 2, fr.left + 40), fr.right - 40)
            parts.append(f'<text x="{f1(anchor)}" y="{f1(fr.top + 14)}" text-anchor="middle" '
                         f'font-weight="bold" stroke="#fff" stroke-width="3" paint-order="stroke" '
                         f'{DIFF_TEXT}>differs here</text>')
    return "".join(parts)


def _curve_plot(curve: Curve, uid: str, log_x: bool, xlabel: str,
                axes: Axes) -> tuple[str, str]:
    """The chart's markup and describe_differences(curve)."""
    pts = sample_points(curve, log_x)
    has_student = curve.student is not None
    flags = differ_flags(pts) if has_student else []
    ranges = [] if not has_student else differing_ranges(curve) if log_x else ranges_of(pts, flags)
    said = describe_differences(curve, ranges, axes)
    title = f"{curve.function}: your function and the reference"
    if not pts:
        return empty(uid, title, "There are no sample points to plot."), said
    items = [("reference", "reference (solid)")]
    items += [("student", "your function (dashed)")] if has_student else []
    items += [("diff", "differs here")] if ranges else []
    ylo, yhi, band_lo, band_hi = y_band([p[1] for p in pts], [p[2] for p in pts])
    yticks = nice_ticks(ylo, yhi)
    xlo, xhi = pts[0][0], pts[-1][0]
    xticks = log_ticks(xlo, xhi) if log_x else nice_ticks(xlo, xhi, 7)
    xticks = [t for t in xticks if xlo - 1e-9 <= t <= xhi + 1e-9] or [xlo, xhi]
    items += odd_legend([s for _, _, s in pts] if has_student else [], band_lo, band_hi)
    legend_svg, top = legend(items)
    # A little room above and below so a curve lying on 0 is not hidden under the x-axis.
    pad = 0.04 * (yticks[-1] - yticks[0])
    fr = Frame(xlo, xhi, yticks[0] - pad, yticks[-1] + pad, top + 8, log_x)
    xs = fr.pxs([p[0] for p in pts])
    xtext = [f"{x:.1f}" for x in xs]
    body = [draw_axes(fr, xticks, yticks, xlabel, axes.y_label)]
    if has_student:
        body.append(_diff_bands(xs, flags, fr, uid))
    ref = [f"{text} {fr.py(r):.1f}" for (_, r, _), text in zip(pts, xtext) if plottable(r)]
    body.append(f'<path d="M{" L".join(ref)}" fill="none" {REF_STROKE}/>' if ref else "")
    if has_student:
        body.append(_student_marks(pts, xs, xtext, fr, (band_lo, band_hi)))
    desc = (f"Reference as a solid line over {xlabel} from {fmt_number(pts[0][0])} to "
            f"{fmt_number(pts[-1][0])}. " + (said if has_student
                                            else "Your function gave no values to plot."))
    return open_svg(uid, title, desc, fr.height) + legend_svg + "".join(body) + "</svg>", said


@dataclass(frozen=True)
class _Bars:
    """A bar chart over categories: the first series sets the scale, later ones may be clipped."""

    uid: str
    title: str
    desc: str
    labels: Sequence[str]
    """One per category, written under its bars; or, for a histogram, one per bin edge."""
    series: Sequence[tuple[str, Sequence[float]]]
    xlabel: str
    ylabel: str
    flags: Sequence[bool] = ()
    histogram: bool = False


_BAR_FILL = {"ref-bar": 'fill="#e5e7eb" stroke="#4b5563"', "student-bar": 'fill="#1d4ed8"'}


def _bar(kind: str, value: float, x: float, width: float, fr: Frame,
         band: tuple[float, float]) -> str:
    where, y = classify(value, fr, band)
    base = fr.py(0.0)
    if where == "nan":
        return marker("nan", x + width / 2, base - 6)
    if kind == "count" and value == 0:
        return ""
    top, height = min(y, base), abs(base - y)
    rect = (f'<rect x="{f1(x)}" y="{f1(top)}" width="{f1(width)}" height="{f1(max(height, 0.5))}" '
            f'{_BAR_FILL.get(kind, _BAR_FILL["student-bar"])}/>')
    if where != "ok":
        return rect + marker(where, x + width / 2, y + (4 if where == "high" else -4))
    if kind == "count":
        rect += (f'<text x="{f1(x + width / 2)}" y="{f1(top - 4)}" text-anchor="middle" '
                 f'fill="#111827">{esc(fmt_number(value))}</text>')
    return rect


def _bar_labels(spec: _Bars, fr: Frame, group: float) -> str:
    """Category names under their bars, or a histogram's bin edges under the edges."""
    offset = 0.0 if spec.histogram else group / 2
    every = math.ceil(len(spec.labels) / 12)
    return "".join(f'<text x="{f1(fr.left + i * group + offset)}" y="{f1(fr.bottom + 18)}" '
                   f'text-anchor="middle" fill="#374151">{esc(label)}</text>'
                   for i, label in enumerate(spec.labels) if i % every == 0)


def _bar_chart(spec: _Bars) -> str:
    others = [v for _, vals in spec.series[1:] for v in vals]
    ylo, yhi, band_lo, band_hi = y_band([*spec.series[0][1], 0.0], others)
    yticks = nice_ticks(min(ylo, 0.0), max(yhi, 1.0) if spec.histogram else yhi)
    yticks = [t for t in yticks if t == int(t)] if spec.histogram else yticks
    items = [(k, {"ref-bar": "reference (outlined)", "student-bar": "your function (filled)"}[k])
             for k, _ in spec.series if k != "count"]
    items += [("diff", "differs here")] if any(spec.flags) else []
    items += odd_legend(others, band_lo, band_hi)
    legend_svg, top = legend(items) if items else ("", 12.0)
    fr = Frame(0.0, 1.0, yticks[0], yticks[-1], top + 8, below=BOTTOM + 14 * any(spec.flags))
    n = max(len(spec.series[0][1]), 1)
    group = (fr.right - fr.left) / n
    width = group * (0.92 if spec.histogram else 0.8) / len(spec.series)
    body = [draw_axes(fr, [], yticks, spec.xlabel, spec.ylabel), _bar_labels(spec, fr, group)]
    for i in range(n):
        x0 = fr.left + i * group
        if i < len(spec.flags) and spec.flags[i]:
            body.append(f'<rect x="{f1(x0)}" y="{f1(fr.top)}" width="{f1(group)}" height='
                        f'"{f1(fr.bottom - fr.top)}" fill="{hatch(spec.uid)}" opacity="0.55"/>'
                        f'<text x="{f1(x0 + group / 2)}" y="{f1(fr.bottom + 33)}" '
                        f'text-anchor="middle" font-weight="bold" {DIFF_TEXT}>differs</text>')
        gap = group * (0.08 if spec.histogram else 0.2) / 2
        body += [_bar(kind, vals[i], x0 + gap + k * width, width, fr, (band_lo, band_hi))
                 for k, (kind, vals) in enumerate(spec.series)]
    return open_svg(spec.uid, spec.title, spec.desc, fr.height) + legend_svg + "".join(body) + \
        "</svg>"


def _bars(curve: Curve, uid: str, axes: Axes) -> tuple[str, str]:
    uid = uid or f"bars-{curve.exercise}-{curve.function}"
    title = f"{curve.function}: {axes.y_label} per {axes.x_label}, yours next to the reference"
    said = describe_differences(curve, axes=axes)
    if not curve.x:
        return empty(uid, title, f"There are no {plural(axes.x_label)} to plot."), said
    series: list[tuple[str, Sequence[float]]] = [("ref-bar", [float(r) for r in curve.reference])]
    flags: list[bool] = []
    if curve.student is not None:
        series.append(("student-bar", [float(s) for s in curve.student]))
        flags = [values_differ(r, s) for r, s in zip(curve.reference, curve.student)]
    ref_text = ", ".join(fmt_number(r) for r in curve.reference[:20])
    desc = f"Reference {plural(axes.y_label)} per {axes.x_label}: {ref_text}. " + (
        said if curve.student is not None else "Your function gave no values to plot.")
    labels = [fmt_number(x) for x in curve.x]
    bars = _Bars(uid, title, desc, labels, series, axes.x_label, axes.y_label, flags)
    return _bar_chart(bars), said


def histogram(scores: Sequence[float], max_score: float, *, uid: str = "histogram",
              unit: str = "points") -> Markup:
    """How many scores fall in each tenth of [0, max_score]; the count is written on each bar."""
    finite = [s for s in scores if plottable(s)]
    top = max_score if plottable(max_score) and max_score > 0 else max([1.0, *finite])
    counts = [0.0] * 10
    for s in finite:
        counts[min(int(min(max(s / top, 0.0), 1.0) * 10), 9)] += 1
    edges = [fmt_number(top * i / 10) for i in range(11)]
    title = f"Score distribution of {len(scores)} submissions"
    desc = "Submissions per score range: " + ", ".join(
        f"{edges[i]} to {edges[i + 1]}: {int(c)}" for i, c in enumerate(counts)) + "."
    if not scores:
        return Markup(empty(uid, title, "No scores yet."))
    return Markup(_bar_chart(_Bars(uid, title, desc, edges, [("count", counts)],
                                   f"score ({unit})", "submissions", histogram=True)))
