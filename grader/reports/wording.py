"""Small wording helpers every view model of the reports uses: points, labels, clipped text.

They live apart from the page's view models so that the modules those are split into can share
them without importing each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from grader.records import TestOutcome
from grader.reports.svg_parts import safe_text

Reveal = Literal["none", "names", "all"]
REVEALS: tuple[Reveal, ...] = ("none", "names", "all")
MAX_MESSAGE_CHARS = 4000
"""Longer messages are cut: a page per student must stay light for a class of hundreds."""


def clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Safe text cut to `limit` characters, saying how much was left out."""
    text = safe_text(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters not shown)"


def fmt_points(value: float) -> str:
    """7 or 7.5 or 7.25: no trailing zeros, at most two decimals."""
    if not math.isfinite(value):
        return "0"
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def function_label(test: TestOutcome) -> str:
    return f"{test.function}() in {test.exercise}.py" if test.function else \
        f"module checks of {test.exercise}.py"


def dedupe(items: Iterable[str]) -> tuple[str, ...]:
    """Safe, non-blank items, each once, in their first order."""
    return tuple(dict.fromkeys(safe_text(i) for i in items if i.strip()))
