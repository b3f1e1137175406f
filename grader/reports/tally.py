"""A submission's totals: all that the class-wide reports keep of it once it has gone by.

grades.csv, the class summary page, the step summary's table and the lines a run prints are
written in one pass over a class that may be read back from disk one submission at a time: each
keeps a Tally per student rather than the result, whose tests and curves are far larger.

Most students of a class share their totals (every full mark, every untouched stub), so equal
totals share one set of objects: per student a Tally costs little more than its id.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from grader.records import Status, SubmissionResult, TestOutcome

_Points = tuple[tuple[str, float, float], ...]

_STATUSES: dict[str, Status] = {"graded": "graded", "error": "error"}
"""One string per status, instead of one per result read back from disk."""
_KEPT: dict[tuple[tuple[str, ...], bytes], tuple[float, float, _Points]] = {}
"""Totals met lately, by exercise names and the bits of every figure."""
_KEPT_MOST = 1024
"""Most totals kept at once: past that _KEPT starts again empty."""


@dataclass(frozen=True, slots=True)
class Tally:
    """One submission's points, overall and per exercise."""

    id: str
    """Submission id."""
    status: Status
    """graded, or error when the submission could not be graded at all."""
    score: float
    """Points earned over all tests."""
    max_score: float
    """Points available over all tests."""
    exercises: _Points
    """(exercise, points earned, points available) for each exercise that has tests, in the
    order of their first test."""

    def points(self, exercise: str) -> tuple[float, float] | None:
        """Points earned and available in exercise; None when none of its tests ran."""
        for name, score, top in self.exercises:
            if name == exercise:
                return score, top
        return None


def tally(result: SubmissionResult) -> Tally:
    """The totals of result."""
    groups: dict[str, list[TestOutcome]] = {}
    for test in result.tests:
        groups.setdefault(test.exercise, []).append(test)
    # sum() over each exercise's tests in suite order, as the reports have always added them:
    # the same floats to the last bit, so every figure reads as it did.
    exercises = tuple((name, sum(t.score for t in mine), sum(t.max_score for t in mine))
                      for name, mine in groups.items())
    score, max_score, exercises = _shared(result.score, result.max_score, exercises)
    return Tally(result.id, _STATUSES.get(result.status, result.status), score, max_score,
                 exercises)


def _shared(score: float, max_score: float,
            exercises: _Points) -> tuple[float, float, _Points]:
    """The totals of an earlier submission equal to these to the last bit, if one was seen
    lately; else these, kept for the next."""
    values = (score, max_score, *(v for _, earned, top in exercises for v in (earned, top)))
    if not all(type(v) is float for v in values):
        return score, max_score, exercises  # an int reads like a float but is not the same
    # By their bits, not by ==: 0.0 and -0.0 are equal but read 0 and -0.
    key = (tuple(name for name, _, _ in exercises), struct.pack(f"{len(values)}d", *values))
    found = _KEPT.get(key)
    if found is None:
        if len(_KEPT) >= _KEPT_MOST:
            _KEPT.clear()
        found = _KEPT[key] = (score, max_score, exercises)
    return found
