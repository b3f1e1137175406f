"""The pieces every chart of grader.reports.svg is built from: text, ticks, frame, axes, legend.

Text that comes from data (function names, labels) is escaped here; the rest of the markup is
built only from numbers and fixed strings. Coordinates are written with one decimal; a chart holds
hundreds of them, so the hot paths format them inline rather than through a helper per number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from markupsafe import escape

from grader.reports.curves import fmt_number, plottable

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


def _spell(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """Text with control characters, lone surrogates and non-characters spelled out as escapes.

    Student output may hold terminal colour codes or NUL bytes; browsers show them unpredictably
    and they make the page invalid HTML, so the reader sees e.g. \\x1b instead.
    """
    if text.isprintable():
        return text  # every character _CONTROL matches, and \r, is unprintable
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(_spell, text)


def esc(text: str) -> str:
    return str(escape(safe_text(text)))


def f1(value: float) -> str:
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


class Frame:
    """Maps data coordinates to the plot area of the viewBox."""

    __slots__ = ("_width", "_xa", "_xgrows", "_xspan", "_ygrows", "_ypx", "_yspan", "below",
                 "bottom", "height", "left", "log_x", "right", "top", "xhi", "xlo", "yhi", "ylo")

    def __init__(self, xlo: float, xhi: float, ylo: float, yhi: float, top: float,
                 log_x: bool = False, below: float = BOTTOM, left: float = LEFT,
                 right: float = WIDTH - RIGHT) -> None:
        self.xlo, self.xhi, self.ylo, self.yhi, self.top = xlo, xhi, ylo, yhi, top
        self.log_x, self.below, self.left, self.right = log_x, below, left, right
        # below: room under the plot area for tick labels and the axis label.
        self.bottom = top + PLOT_HEIGHT
        self.height = self.bottom + below
        # The same operations, in the same order, as the one-point formulas in px and py.
        xa, xb = self._scale(xlo), self._scale(xhi)
        self._xa, self._xspan, self._xgrows, self._width = xa, xb - xa, xb > xa, right - left
        self._yspan, self._ygrows, self._ypx = yhi - ylo, yhi > ylo, self.bottom - top

    def _scale(self, x: float) -> float:
        return math.log10(x) if self.log_x else float(x)

    def px(self, x: float) -> float:
        share = (self._scale(x) - self._xa) / self._xspan if self._xgrows else 0.5
        return self.left + share * self._width

    def pxs(self, xs: Sequence[float]) -> list[float]:
        """px of every x."""
        if not self._xgrows:
            return [self.left + 0.5 * self._width] * len(xs)
        left, xa, span, width = self.left, self._xa, self._xspan, self._width
        values = map(math.log10, xs) if self.log_x else map(float, xs)
        return [left + ((v - xa) / span) * width for v in values]

    def py(self, y: float) -> float:
        share = (y - self.ylo) / self._yspan if self._ygrows else 0.5
        return self.bottom - share * self._ypx


def sid(uid: str) -> str:
    return "svg-" + re.sub(r"[^A-Za-z0-9_-]", "-", uid)


def open_svg(uid: str, title: str, desc: str, height: float) -> str:
    uid = sid(uid)
    return (f'<svg class="chart" viewBox="0 0 {WIDTH:g} {height:g}" width="100%" role="img" '
            f'aria-labelledby="{uid}-t {uid}-d" font-family="system-ui, sans-serif" font-size="13">'
            f'<title id="{uid}-t">{esc(title)}</title><desc id="{uid}-d">{esc(desc)}</desc>'
            f'<defs><pattern id="{uid}-hatch" width="7" height="7" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="7" height="7" fill="#fde8e8"/>'
            f'<line x1="0" y1="0" x2="0" y2="7" stroke="#dc2626" stroke-width="2"/></pattern>'
            f'</defs>')


def hatch(uid: str) -> str:
    return f"url(#{sid(uid)}-hatch)"


def marker(kind: str, x: float, y: float) -> str:
    """Shapes, not colours, tell clipped and not-a-number values apart."""
    if kind == "high":
        return f'<path d="M{x:.1f} {y:.1f} l5 9 h-10 z" fill="#b91c1c"/>'
    if kind == "low":
        return f'<path d="M{x:.1f} {y:.1f} l5 -9 h-10 z" fill="#b91c1c"/>'
    return (f'<path d="M{x - 5:.1f} {y - 5:.1f} l10 10 M{x - 5:.1f} {y + 5:.1f} l10 -10" '
            f'stroke="#b91c1c" stroke-width="2.5"/>')


def legend(items: Sequence[tuple[str, str]]) -> tuple[str, float]:
    """Legend rows at the top; each item is (swatch kind, label). Returns markup and height."""
    parts, x, y = [], LEFT, 16.0
    for kind, label in items:
        width = 30 + 6.9 * len(label) + 14
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = LEFT, y + 19
        parts.append(_swatch(kind, x, y))
        parts.append(f'<text x="{f1(x + 30)}" y="{f1(y + 4)}" fill="#1f2937">{esc(label)}</text>')
        x += width
    return "".join(parts), y + 16


def _swatch(kind: str, x: float, y: float) -> str:
    if kind == "reference":
        return f'<line x1="{f1(x)}" y1="{f1(y)}" x2="{f1(x + 24)}" y2="{f1(y)}" {REF_STROKE}/>'
    if kind == "student":
        return f'<line x1="{f1(x)}" y1="{f1(y)}" x2="{f1(x + 24)}" y2="{f1(y)}" {STUDENT_STROKE}/>'
    if kind in ("ref-bar", "student-bar", "diff"):
        fill = {"ref-bar": 'fill="#e5e7eb" stroke="#4b5563"', "student-bar": 'fill="#1d4ed8"',
                "diff": 'fill="#fde8e8" stroke="#dc2626" stroke-dasharray="3 2"'}[kind]
        return f'<rect x="{f1(x + 4)}" y="{f1(y - 6)}" width="16" height="12" {fill}/>'
    return marker(kind, x + 12, y - 4 if kind == "high" else y + 4 if kind == "low" else y)


def draw_axes(fr: Frame, xticks: Sequence[float], yticks: Sequence[float],
              xlabel: str, ylabel: str) -> str:
    # Tick labels are fmt_number text (digits, '.', 'e', '+', '−', nan, inf): nothing to escape.
    left, right, label_x = f1(fr.left), f1(fr.right), f1(fr.left - 6)
    parts = [f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
             f'stroke="{"#9ca3af" if t == 0 else "#e5e7eb"}"/><text x="{label_x}" y="{y + 4:.1f}" '
             f'text-anchor="end" fill="#374151">{fmt_number(t)}</text>'
             for t, y in zip(yticks, map(fr.py, yticks))]
    bottom, tick_end, label_y = f1(fr.bottom), f1(fr.bottom + 5), f1(fr.bottom + 18)
    parts += [f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{tick_end}" stroke="#374151"/>'
              f'<text x="{x:.1f}" y="{label_y}" text-anchor="middle" fill="#374151">'
              f'{fmt_number(t)}</text>' for t, x in zip(xticks, map(fr.px, xticks))]
    parts.append(f'<path d="M{left} {f1(fr.top)} V{bottom} H{right}" '
                 f'fill="none" stroke="#374151"/>')
    mid_x, mid_y = (fr.left + fr.right) / 2, (fr.top + fr.bottom) / 2
    parts.append(f'<text x="{f1(mid_x)}" y="{f1(fr.height - 6)}" text-anchor="middle" '
                 f'fill="#111827">{esc(xlabel)}</text>')
    parts.append(f'<text transform="translate(13 {f1(mid_y)}) rotate(-90)" text-anchor="middle" '
                 f'fill="#111827">{esc(ylabel)}</text>')
    return "".join(parts)


def y_band(refs: Sequence[float], students: Sequence[float]) -> tuple[float, float, float, float]:
    """Plot range and clipping band: student values far outside the reference's range are clipped
    so one huge value does not flatten the whole picture."""
    finite = [r for r in refs if plottable(r)] or [0.0, 1.0]
    lo, hi = min(finite), max(finite)
    span = max(hi - lo, 1.0)
    band_lo, band_hi = lo - span, hi + span
    shown = [s for s in students if plottable(s) and band_lo <= s <= band_hi]
    return min([lo, *shown]), max([hi, *shown]), band_lo, band_hi


def classify(value: float, fr: Frame, band: tuple[float, float]) -> tuple[str, float]:
    """Where to draw one student value: (kind, y in pixels); kind is ok, high, low or nan."""
    if math.isnan(value):
        return "nan", fr.bottom
    if value > band[1] or value > fr.yhi:
        return "high", fr.top
    if value < band[0] or value < fr.ylo:
        return "low", fr.bottom
    return "ok", fr.py(value)


def odd_legend(values: Sequence[float], lo: float, hi: float) -> list[tuple[str, str]]:
    """Legend entries for the markers of clipped and nan values, when there are any."""
    clipped = any(not math.isnan(v) and not lo <= v <= hi for v in values)
    return ([("high", "off the chart (clipped)")] if clipped else []) + (
        [("nan", "not a number (nan)")] if any(math.isnan(v) for v in values) else [])


def empty(uid: str, title: str, text: str) -> str:
    return open_svg(uid, title, text, 120) + (f'<text x="{WIDTH / 2:g}" y="60" '
                                               f'text-anchor="middle" fill="#374151">'
                                               f'{esc(text)}</text></svg>')
