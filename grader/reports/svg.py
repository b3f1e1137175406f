"""Inline SVG charts for the feedback and class pages.

Each chart is one self-contained <svg> with a viewBox and width 100%, so it shrinks to a phone's
width and prints without any script, font or file from elsewhere. Text that comes from data
(function names, numbers) is escaped here; the rest of the markup is built only from numbers and
fixed strings, which is why the result may be handed to the templates as Markup.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from grader.records import Curve
from grader.reports.curves import (
    describe_differences,
    differing_ranges,
    fmt_number,
    plottable,
    runs,
    sample_points,
    values_differ,
)

# Small user units and a large font keep the labels readable once a phone shrinks the chart.
# The plot area keeps its height however many legend rows sit above it.
WIDTH, PLOT_HEIGHT = 400.0, 190.0
LEFT, RIGHT, BOTTOM = 46.0, 12.0, 46.0

REF_STROKE = 'stroke="#4b5563" stroke-width="3"'
STUDENT_STROKE = 'stroke="#1d4ed8" stroke-width="2" stroke-dasharray="6 4"'
DIFF_TEXT = 'fill="#991b1b"'

_BAD = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
_BAD += "".join(chr(p * 0x10000 + 0xFFFE) + chr(p * 0x10000 + 0xFFFF) for p in range(1, 17))
_CONTROL = re.compile(f"[{_BAD}]")


def safe_text(text: str) -> str:
    """Text with control characters, lone surrogates and non-characters spelled out as escapes.

    Student output may hold terminal colour codes or NUL bytes; browsers show them unpredictably
    and they make the page invalid HTML, so the reader sees e.g. \\x1b instead.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group()) if ord(m.group()) < 0x100
                        else "\\u%04x" % ord(m.group()), text)


def _esc(text: str) -> str:
    return str(escape(safe_text(text)))


def _f(value: float) -> str:
    return f"{value:.1f}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values that cover [lo, hi] with about `count` steps."""
    if not (plottable(lo) and plottable(hi)):
        lo, hi = 0.0, 1.0
    if hi - lo < 1e-9 * max(1.0, abs(lo), abs(hi)):
        half = max(0.5, abs(lo) / 10)
        lo, hi = lo - half, hi + half
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw * (1 - 1e-9))
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [round(k * step, 12) + 0.0 for k in range(first, last + 1)][:count * 3]


def log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten inside [lo, hi], with 2 and 5 added when the range spans few decades."""
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    mults = (1.0,) if last - first > 3 else (1.0, 2.0, 5.0)
    every = max(1, math.ceil((last - first) / 6))
    ticks = [m * 10.0**e for e in range(first, last + 1, every) for m in mults]
    inside = [t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    return inside or [lo, hi]


@dataclass(frozen=True)
class _Frame:
    """Maps data coordinates to the plot area of the viewBox."""

    xlo: float
    xhi: float
    ylo: float
    yhi: float
    top: float
    log_x: bool = False
    below: float = BOTTOM
    """Room under the plot area for tick labels and the axis label."""
    left: float = LEFT
    right: float = WIDTH - RIGHT

    @property
    def bottom(self) -> float:
        return self.top + PLOT_HEIGHT

    @property
    def height(self) -> float:
        return self.bottom + self.below

    def px(self, x: float) -> float:
        scale = math.log10 if self.log_x else float
        a, b, v = scale(self.xlo), scale(self.xhi), scale(x)
        return self.left + ((v - a) / (b - a) if b > a else 0.5) * (self.right - self.left)

    def py(self, y: float) -> float:
        share = (y - self.ylo) / (self.yhi - self.ylo) if self.yhi > self.ylo else 0.5
        return self.bottom - share * (self.bottom - self.top)


def _sid(uid: str) -> str:
    return "svg-" + re.sub(r"[^A-Za-z0-9_-]", "-", uid)


def _open(uid: str, title: str, desc: str, height: float) -> str:
    uid = _sid(uid)
    return (f'<svg class="chart" viewBox="0 0 {WIDTH:g} {height:g}" width="100%" role="img" '
            f'aria-labelledby="{uid}-t {uid}-d" font-family="system-ui, sans-serif" font-size="13">'
            f'<title id="{uid}-t">{_esc(title)}</title><desc id="{uid}-d">{_esc(desc)}</desc>'
            f'<defs><pattern id="{uid}-hatch" width="7" height="7" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="7" height="7" fill="#fde8e8"/>'
            f'<line x1="0" y1="0" x2="0" y2="7" stroke="#dc2626" stroke-width="2"/></pattern>'
            f'</defs>')


def _hatch(uid: str) -> str:
    return f"url(#{_sid(uid)}-hatch)"


def _marker(kind: str, x: float, y: float) -> str:
    """Shapes, not colours, tell clipped and not-a-number values apart."""
    if kind == "high":
        return f'<path d="M{_f(x)} {_f(y)} l5 9 h-10 z" fill="#b91c1c"/>'
    if kind == "low":
        return f'<path d="M{_f(x)} {_f(y)} l5 -9 h-10 z" fill="#b91c1c"/>'
    return (f'<path d="M{_f(x - 5)} {_f(y - 5)} l10 10 M{_f(x - 5)} {_f(y + 5)} l10 -10" '
            f'stroke="#b91c1c" stroke-width="2.5"/>')


def _legend(items: Sequence[tuple[str, str]]) -> tuple[str, float]:
    """Legend rows at the top; each item is (swatch kind, label). Returns markup and height."""
    parts, x, y = [], LEFT, 16.0
    for kind, label in items:
        width = 30 + 6.9 * len(label) + 14
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = LEFT, y + 19
        parts.append(_swatch(kind, x, y))
        parts.append(f'<text x="{_f(x + 30)}" y="{_f(y + 4)}" fill="#1f2937">{_esc(label)}</text>')
        x += width
    return "".join(parts), y + 16


def _swatch(kind: str, x: float, y: float) -> str:
    if kind == "reference":
        return f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x + 24)}" y2="{_f(y)}" {REF_STROKE}/>'
    if kind == "student":
        return f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x + 24)}" y2="{_f(y)}" {STUDENT_STROKE}/>'
    if kind in ("ref-bar", "student-bar", "diff"):
        fill = {"ref-bar": 'fill="#e5e7eb" stroke="#4b5563"', "student-bar": 'fill="#1d4ed8"',
                "diff": 'fill="#fde8e8" stroke="#dc2626" stroke-dasharray="3 2"'}[kind]
        return f'<rect x="{_f(x + 4)}" y="{_f(y - 6)}" width="16" height="12" {fill}/>'
    return _marker(kind, x + 12, y - 4 if kind == "high" else y + 4 if kind == "low" else y)


def _axes(fr: _Frame, xticks: Sequence[float], yticks: Sequence[float],
          xlabel: str, ylabel: str) -> str:
    parts = []
    for t in yticks:
        y = fr.py(t)
        grid = "#9ca3af" if t == 0 else "#e5e7eb"
        parts.append(f'<line x1="{_f(fr.left)}" y1="{_f(y)}" x2="{_f(fr.right)}" y2="{_f(y)}" '
                     f'stroke="{grid}"/><text x="{_f(fr.left - 6)}" y="{_f(y + 4)}" '
                     f'text-anchor="end" fill="#374151">{_esc(fmt_number(t))}</text>')
    for t in xticks:
        x = fr.px(t)
        parts.append(f'<line x1="{_f(x)}" y1="{_f(fr.bottom)}" x2="{_f(x)}" '
                     f'y2="{_f(fr.bottom + 5)}" '
                     f'stroke="#374151"/><text x="{_f(x)}" y="{_f(fr.bottom + 18)}" '
                     f'text-anchor="middle" fill="#374151">{_esc(fmt_number(t))}</text>')
    parts.append(f'<path d="M{_f(fr.left)} {_f(fr.top)} V{_f(fr.bottom)} H{_f(fr.right)}" '
                 f'fill="none" stroke="#374151"/>')
    mid_x, mid_y = (fr.left + fr.right) / 2, (fr.top + fr.bottom) / 2
    parts.append(f'<text x="{_f(mid_x)}" y="{_f(fr.height - 6)}" text-anchor="middle" '
                 f'fill="#111827">{_esc(xlabel)}</text>')
    parts.append(f'<text transform="translate(13 {_f(mid_y)}) rotate(-90)" text-anchor="middle" '
                 f'fill="#111827">{_esc(ylabel)}</text>')
    return "".join(parts)


def _y_band(refs: Sequence[float], students: Sequence[float]) -> tuple[float, float, float, float]:
    """Plot range and clipping band: student values far outside the reference's range are clipped
    so one huge value does not flatten the whole picture."""
    finite = [r for r in refs if plottable(r)] or [0.0, 1.0]
    lo, hi = min(finite), max(finite)
    span = max(hi - lo, 1.0)
    band_lo, band_hi = lo - span, hi + span
    shown = [s for s in students if plottable(s) and band_lo <= s <= band_hi]
    return min([lo, *shown]), max([hi, *shown]), band_lo, band_hi


def _classify(value: float, fr: _Frame, band: tuple[float, float]) -> tuple[str, float]:
    """Where to draw one student value: (kind, y in pixels); kind is ok, high, low or nan."""
    if math.isnan(value):
        return "nan", fr.bottom
    if value > band[1] or value > fr.yhi:
        return "high", fr.top
    if value < band[0] or value < fr.ylo:
        return "low", fr.bottom
    return "ok", fr.py(value)


def _student_marks(pts: Sequence[tuple[float, float, float]], fr: _Frame,
                   band: tuple[float, float]) -> str:
    """The student's dashed path (broken at nan) plus markers for clipped and nan values."""
    segments: list[list[str]] = [[]]
    marks = []
    for x, _, s in pts:
        kind, y = _classify(s, fr, band)
        if kind == "nan":
            segments.append([])
        else:
            segments[-1].append(f"{_f(fr.px(x))} {_f(y)}")
        if kind != "ok":
            nudge = {"high": 4, "low": -4}.get(kind, -6)
            marks.append(_marker(kind, fr.px(x), y + nudge))
        elif len(pts) <= 60:
            marks.append(f'<circle cx="{_f(fr.px(x))}" cy="{_f(y)}" r="2.5" fill="#1d4ed8"/>')
    paths = [f'<path d="M{" L".join(seg)}" fill="none" {STUDENT_STROKE}/>'
             for seg in segments if len(seg) > 1]
    return "".join(paths) + "".join(marks)


def _diff_bands(pts: Sequence[tuple[float, float, float]], fr: _Frame, uid: str) -> str:
    """Hatched bands, each labelled in words, over the x ranges where the values differ."""
    xs = [fr.px(p[0]) for p in pts]
    parts = []
    for n, (i, j) in enumerate(runs([values_differ(r, s) for _, r, s in pts])):
        a = (xs[i - 1] + xs[i]) / 2 if i > 0 else max(fr.left, xs[i] - 4)
        b = (xs[j] + xs[j + 1]) / 2 if j + 1 < len(xs) else min(fr.right, xs[j] + 4)
        parts.append(f'<rect x="{_f(a)}" y="{_f(fr.top)}" width="{_f(max(b - a, 3))}" '
                     f'height="{_f(fr.bottom - fr.top)}" fill="{_hatch(uid)}" opacity="0.55"/>')
        if b - a >= 70 or n == 0:
            anchor = min(max((a + b) / 2, fr.left + 40), fr.right - 40)
            parts.append(f'<text x="{_f(anchor)}" y="{_f(fr.top + 14)}" text-anchor="middle" '
                         f'font-weight="bold" stroke="#fff" stroke-width="3" paint-order="stroke" '
                         f'{DIFF_TEXT}>differs here</text>')
    return "".join(parts)


def _curve_plot(curve: Curve, uid: str, log_x: bool, xlabel: str, ylabel: str) -> Markup:
    pts = sample_points(curve, log_x)
    title = f"{curve.function}: your function and the reference"
    if not pts:
        return _empty(uid, title, "There are no sample points to plot.")
    has_student = curve.student is not None
    legend = [("reference", "reference (solid)")]
    legend += [("student", "your function (dashed)")] if has_student else []
    if has_student and differing_ranges(curve):
        legend.append(("diff", "differs here"))
    ylo, yhi, band_lo, band_hi = _y_band([p[1] for p in pts], [p[2] for p in pts])
    yticks = nice_ticks(ylo, yhi)
    xlo, xhi = pts[0][0], pts[-1][0]
    xticks = log_ticks(xlo, xhi) if log_x else nice_ticks(xlo, xhi, 7)
    xticks = [t for t in xticks if xlo - 1e-9 <= t <= xhi + 1e-9] or [xlo, xhi]
    legend += _odd_legend([s for _, _, s in pts] if has_student else [], band_lo, band_hi)
    legend_svg, top = _legend(legend)
    # A little room above and below so a curve lying on 0 is not hidden under the x-axis.
    pad = 0.04 * (yticks[-1] - yticks[0])
    fr = _Frame(xlo, xhi, yticks[0] - pad, yticks[-1] + pad, top + 8, log_x)
    body = [_axes(fr, xticks, yticks, xlabel, ylabel)]
    if has_student:
        body.append(_diff_bands(pts, fr, uid))
    ref = [f"{_f(fr.px(x))} {_f(fr.py(r))}" for x, r, _ in pts if plottable(r)]
    body.append(f'<path d="M{" L".join(ref)}" fill="none" {REF_STROKE}/>' if ref else "")
    if has_student:
        body.append(_student_marks(pts, fr, (band_lo, band_hi)))
    desc = (f"Reference as a solid line over {xlabel} from {fmt_number(pts[0][0])} to "
            f"{fmt_number(pts[-1][0])}. " + (describe_differences(curve) if has_student
                                            else "Your function gave no values to plot."))
    return Markup(_open(uid, title, desc, fr.height) + legend_svg + "".join(body) + "</svg>")


def _odd_legend(values: Sequence[float], lo: float, hi: float) -> list[tuple[str, str]]:
    """Legend entries for the markers of clipped and nan values, when there are any."""
    clipped = any(not math.isnan(v) and not lo <= v <= hi for v in values)
    return ([("high", "off the chart (clipped)")] if clipped else []) + (
        [("nan", "not a number (nan)")] if any(math.isnan(v) for v in values) else [])


def _empty(uid: str, title: str, text: str) -> Markup:
    return Markup(_open(uid, title, text, 120) + f'<text x="{WIDTH / 2:g}" y="60" '
                  f'text-anchor="middle" fill="#374151">{_esc(text)}</text></svg>')


def line_plot(curve: Curve, *, uid: str = "") -> Markup:
    """The student's function drawn dashed over the reference (solid) against z."""
    return _curve_plot(curve, uid or f"line-{curve.exercise}-{curve.function}", False,
                       "z", f"{curve.function}(z)")


def entropy_plot(curve: Curve, *, uid: str = "") -> Markup:
    """Entropy of the output distribution against the input scale, on a log x-axis."""
    log_x = any(x > 0 for x in curve.x)
    return _curve_plot(curve, uid or f"entropy-{curve.exercise}-{curve.function}", log_x,
                       "scale of the input (log axis)" if log_x else "scale of the input",
                       "entropy")


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


def _bar(kind: str, value: float, x: float, width: float, fr: _Frame,
         band: tuple[float, float]) -> str:
    where, y = _classify(value, fr, band)
    base = fr.py(0.0)
    if where == "nan":
        return _marker("nan", x + width / 2, base - 6)
    if kind == "count" and value == 0:
        return ""
    top, height = min(y, base), abs(base - y)
    rect = (f'<rect x="{_f(x)}" y="{_f(top)}" width="{_f(width)}" height="{_f(max(height, 0.5))}" '
            f'{_BAR_FILL.get(kind, _BAR_FILL["student-bar"])}/>')
    if where != "ok":
        return rect + _marker(where, x + width / 2, y + (4 if where == "high" else -4))
    if kind == "count":
        rect += (f'<text x="{_f(x + width / 2)}" y="{_f(top - 4)}" text-anchor="middle" '
                 f'fill="#111827">{_esc(fmt_number(value))}</text>')
    return rect


def _bar_labels(spec: _Bars, fr: _Frame, group: float) -> str:
    """Category names under their bars, or a histogram's bin edges under the edges."""
    offset = 0.0 if spec.histogram else group / 2
    every = math.ceil(len(spec.labels) / 12)
    return "".join(f'<text x="{_f(fr.left + i * group + offset)}" y="{_f(fr.bottom + 18)}" '
                   f'text-anchor="middle" fill="#374151">{_esc(label)}</text>'
                   for i, label in enumerate(spec.labels) if i % every == 0)


def _bar_chart(spec: _Bars) -> Markup:
    others = [v for _, vals in spec.series[1:] for v in vals]
    ylo, yhi, band_lo, band_hi = _y_band([*spec.series[0][1], 0.0], others)
    yticks = nice_ticks(min(ylo, 0.0), max(yhi, 1.0) if spec.histogram else yhi)
    yticks = [t for t in yticks if t == int(t)] if spec.histogram else yticks
    legend = [(k, {"ref-bar": "reference (outlined)", "student-bar": "your function (filled)"}[k])
              for k, _ in spec.series if k != "count"]
    legend += [("diff", "differs here")] if any(spec.flags) else []
    legend += _odd_legend(others, band_lo, band_hi)
    legend_svg, top = _legend(legend) if legend else ("", 12.0)
    fr = _Frame(0.0, 1.0, yticks[0], yticks[-1], top + 8, below=BOTTOM + 14 * any(spec.flags))
    n = max(len(spec.series[0][1]), 1)
    group = (fr.right - fr.left) / n
    width = group * (0.92 if spec.histogram else 0.8) / len(spec.series)
    body = [_axes(fr, [], yticks, spec.xlabel, spec.ylabel), _bar_labels(spec, fr, group)]
    for i in range(n):
        x0 = fr.left + i * group
        if i < len(spec.flags) and spec.flags[i]:
            body.append(f'<rect x="{_f(x0)}" y="{_f(fr.top)}" width="{_f(group)}" height='
                        f'"{_f(fr.bottom - fr.top)}" fill="{_hatch(spec.uid)}" opacity="0.55"/>'
                        f'<text x="{_f(x0 + group / 2)}" y="{_f(fr.bottom + 33)}" '
                        f'text-anchor="middle" font-weight="bold" {DIFF_TEXT}>differs</text>')
        gap = group * (0.08 if spec.histogram else 0.2) / 2
        body += [_bar(kind, vals[i], x0 + gap + k * width, width, fr, (band_lo, band_hi))
                 for k, (kind, vals) in enumerate(spec.series)]
    return Markup(_open(spec.uid, spec.title, spec.desc, fr.height) + legend_svg + "".join(body)
                  + "</svg>")


def bar_plot(curve: Curve, *, uid: str = "") -> Markup:
    """Softmax probabilities per class: the reference bar (outlined) next to the student's."""
    uid = uid or f"bars-{curve.exercise}-{curve.function}"
    title = f"{curve.function}: probability per class, yours next to the reference"
    if not curve.x:
        return _empty(uid, title, "There are no classes to plot.")
    series: list[tuple[str, Sequence[float]]] = [("ref-bar", [float(r) for r in curve.reference])]
    flags: list[bool] = []
    if curve.student is not None:
        series.append(("student-bar", [float(s) for s in curve.student]))
        flags = [values_differ(r, s) for r, s in zip(curve.reference, curve.student)]
    ref_text = ", ".join(fmt_number(r) for r in curve.reference[:20])
    desc = f"Reference probabilities per class: {ref_text}. " + (
        describe_differences(curve) if curve.student is not None
        else "Your function gave no values to plot.")
    labels = [fmt_number(x) for x in curve.x]
    return _bar_chart(_Bars(uid, title, desc, labels, series, "class", "probability", flags))


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
        return _empty(uid, title, "No scores yet.")
    return _bar_chart(_Bars(uid, title, desc, edges, [("count", counts)], f"score ({unit})",
                            "submissions", histogram=True))
