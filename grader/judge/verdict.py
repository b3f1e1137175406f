"""One test's verdict on one submission: what the judge records after running the test body.

The verdict is plain JSON (it travels in pytest-json-report's metadata): the outcome kind, the
student-facing message, the pitfall detected and the advisories of the calls made.
"""

from __future__ import annotations

from typing import Any

from grader.judge import checks
from grader.judge.errors import PitfallDetected, StudentError
from grader.records import CallResult


def passed(calls: list[CallResult], duration: float) -> dict[str, Any]:
    """The verdict of a test body that returned normally."""
    return {"kind": "passed", "advisories": advisories(calls), "duration": round(duration, 4)}


def failed(exc: BaseException, function: str | None, calls: list[CallResult],
           duration: float) -> dict[str, Any]:
    """The verdict of a test body that raised `exc`."""
    found = failure(exc, function)
    found["advisories"] = advisories(calls)
    found["duration"] = round(duration, 4)
    return found


def failure(exc: BaseException, function: str | None) -> dict[str, Any]:
    """Outcome kind, student-facing message and detected pitfall for a failed test."""
    if isinstance(exc, StudentError):
        pitfall = checks.diagnose_error(exc.message, function, exc.kind)
        return {"kind": exc.outcome, "error_kind": exc.kind, "message": exc.message,
                "detected_pitfall": pitfall}
    if isinstance(exc, AssertionError):
        pitfall = exc.pitfall if isinstance(exc, PitfallDetected) else None
        found = {"kind": "failed", "message": _assert_text(exc), "detected_pitfall": pitfall}
        table = getattr(exc, "comparison", None)
        if isinstance(table, tuple) and len(table) == 2:
            found["comparison"], found["comparison_note"] = table
        return found
    return {"kind": "internal", "message": f"the grader failed inside this test "
            f"({type(exc).__name__}: {str(exc)[:300]}); please tell your instructor"}


def _assert_text(exc: AssertionError) -> str:
    text = str(exc).strip()
    # pytest's assertion rewriting appends its own introspection after the message line(s)
    # of a bare assert; a student gains nothing from 'assert False' noise.
    text = text.split("\nassert ", 1)[0]
    return text[:3000] or "wrong answer"


def advisories(calls: list[CallResult]) -> list[str]:
    """The distinct warnings the student's code raised during the test (at most five)."""
    seen: list[str] = []
    for result in calls:
        for warning in result.warnings:
            # Underflow to 0 is the right answer for e^-1000; NumPy itself ignores it by default.
            if "underflow" in warning:
                continue
            if warning not in seen:
                seen.append(warning)
    return seen[:5]
