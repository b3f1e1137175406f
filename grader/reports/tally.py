"""A submission's totals: all that the class-wide reports keep of it once it has gone by.

grades.csv, the class summary page, the step summary's table and the lines a run prints are
written in one pass over a class that may be read back from disk one submission at a time: each
keeps a Tally per student rather than the result, whose tests and curves are far larger.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.records import Status, SubmissionResult, TestOutcome


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
    exercises: tuple[tuple[str, float, float], ...]
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
    return Tally(result.id, result.status, result.score, result.max_score,
                 tuple((name, sum(t.score for t in mine), sum(t.max_score for t in mine))
                       for name, mine in groups.items()))
