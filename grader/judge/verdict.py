"""One test's verdict on one submission: what the judge records after running the test body.

The verdict is plain JSON (it travels in pytest-json-report's metadata): the outcome kind, the
student-facing message, the pitfall detected (only ever one the failure itself shows: see
grader.judge.diagnosis), what was observed when none was, and the advisories of the calls made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.judge import diagnosis
from grader.judge.errors import PitfallDetected, StudentError
from grader.judge.observations import Seen
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
        pitfall = diagnosis.diagnose_error(exc.message, exc.function or function, exc.kind,
                                           exc.code)
        return {"kind": exc.outcome, "error_kind": exc.kind, "message": exc.message,
                "detected_pitfall": pitfall}
    if isinstance(exc, AssertionError):
        return _wrong_answer(exc, function)
    return {"kind": "internal", "message": f"the grader failed inside this test "
            f"({type(exc).__name__}: {str(exc)[:300]}); please tell your instructor"}


def _wrong_answer(exc: AssertionError, function: str | None) -> dict[str, Any]:
    message = _assert_text(exc)
    pitfall = exc.pitfall if isinstance(exc, PitfallDetected) else None
    observed = getattr(exc, "observed", None)
    seen = getattr(exc, "observation", None)
    if pitfall is None and isinstance(observed, tuple) and len(observed) == 3:
        found = diagnosis.diagnose_answer(function, *observed)
        if found is not None:
            pitfall, message = found.pitfall, f"{found.sentence}\n{message}"
            seen = None  # the detector's sentence says it better
    verdict: dict[str, Any] = {"kind": "failed", "message": message, "detected_pitfall": pitfall}
    if isinstance(observed, tuple) and len(observed) == 3:
        # A wrong answer of the expected shape: the only failure a test's own pitfall may
        # describe where the course has no way to check that pitfall (see grader.results).
        verdict["compared"] = np.shape(observed[0]) == np.shape(observed[1])
    if isinstance(seen, Seen) and seen.text:
        # Set only when no detector named the mistake: with the grader's own generic pitfalls
        # (a wrong shape, a single number) it says what exactly was wrong.
        verdict["observation"] = seen.text
        if seen.plain != seen.text:
            verdict["observation_plain"] = seen.plain
    table = getattr(exc, "comparison", None)
    if isinstance(table, tuple) and len(table) == 2:
        verdict["comparison"], verdict["comparison_note"] = table
    return verdict


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
