"""What a feedback page says of a curve of where a test failed (see grader.judge.where_failed).

Such a curve holds a test's input and both answers there. A visible test's may always be shown
(the page shows its message, values included); a hidden test's only under reveal "all", the one
level that shows its message. Under "names" the page names the test and under "none" only says
that a hidden test found a difference, and of what kind, never the values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from grader.records import Curve, TestOutcome
from grader.reports.curves import fmt_number
from grader.reports.wording import Reveal

#: Most values of an answer a sentence lists.
LISTED = 8

#: Said under a function's own plot when the plot of where a test failed is drawn too.
SHOWN_ELSEWHERE = " It lost points on other inputs: the plot of where a test failed shows one."


@dataclass(frozen=True)
class FailedPlot:
    """What the page shows of one curve of where a test failed."""

    drawn: bool
    """Whether its chart may be drawn."""
    title: str
    """The chart's title."""
    note: str
    """Said under the chart: the input, the test, and what the student's function gave there."""
    elsewhere: str
    """Said under the function's own plot (which matches the reference) about this failure."""


def failed_plot(curve: Curve, test: TestOutcome | None, reveal: Reveal) -> FailedPlot | None:
    """What the page may show of `curve` (made by `test`); None when the test is not on the
    page."""
    if test is None:
        return None
    student = curve.student or ()
    if test.visibility == "visible" or reveal == "all":
        note = (f"Where it failed: {curve.note} (test '{test.name}'): yours gives "
                f"{_listed(student)} where the reference gives {_listed(curve.reference)}.")
        return FailedPlot(True, f"{curve.function}() in {curve.exercise}.py, where a test failed",
                          note, SHOWN_ELSEWHERE)
    which = f"the hidden test '{test.name}'" if reveal == "names" else "a hidden test"
    return FailedPlot(False, "", "", " It still lost points on inputs this plot does not "
                      f"sample: on the input of {which}, yours gives "
                      f"{_kind(curve.reference, student)}.")


def _listed(values: Sequence[float]) -> str:
    shown = ", ".join(fmt_number(v) for v in values[:LISTED])
    return shown + (", …" if len(values) > LISTED else "")


def _kind(reference: Sequence[float], student: Sequence[float]) -> str:
    """What sets the answers apart, in words that quote no value."""
    if any(math.isfinite(r) and not math.isfinite(s) for r, s in zip(reference, student)):
        return "nan or inf where the reference gives numbers"
    return "values that differ from the reference's"
