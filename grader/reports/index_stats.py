"""The class summary's figures: headline numbers, means per exercise, pass rates per test, the
most common misconceptions and one row per student.

Each is gathered one submission at a time, in any order, keeping per student only a Tally (and
an id per misconception), per test a count: what a pass over the class sorted by id would find.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from grader.records import SubmissionResult, TestOutcome
from grader.reports.context import (
    exercise_order,
    fmt_percent,
    fmt_percent_value,
    fmt_points,
    function_label,
    percent_value,
    student_href,
)
from grader.reports.gradebook import round_percent
from grader.reports.index_problems import Rows, StudentLink, student_link
from grader.reports.svg_parts import safe_text
from grader.reports.tally import Tally

TOP_MISCONCEPTIONS = 10

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class Earliest(Generic[_K, _V]):
    """For each key, the value seen with it first in the order of submission ids (the order
    they came among equal ids): what a pass over the class sorted by id would meet first, in
    whatever order the class comes."""

    def __init__(self) -> None:
        self._seen: dict[_K, tuple[str, int, _V]] = {}
        self._count = 0

    def see(self, key: _K, sid: str, value: _V) -> None:
        """key met, with value, in the submission sid."""
        self._count += 1
        found = self._seen.get(key)
        if found is None or sid < found[0]:
            self._seen[key] = (sid, self._count, value)

    def get(self, key: _K) -> _V | None:
        """The value first seen with key; None if key was never seen."""
        found = self._seen.get(key)
        return None if found is None else found[2]

    def ordered(self) -> list[tuple[_K, _V]]:
        """Every key and its value, in the order a pass sorted by id meets the keys."""
        return [(key, found[2]) for key, found in
                sorted(self._seen.items(), key=lambda item: item[1][:2])]


@dataclass(frozen=True)
class Rate:
    """A share drawn as a CSS bar whose number is also written out, so it never relies on colour."""

    text: str
    """The share as written, e.g. '62.5%'."""
    width: str
    """The bar's width in percent of the whole, e.g. '62.5'."""


def rate(part: float, whole: float) -> Rate:
    share = percent_value(part, whole)
    return Rate(fmt_percent(part, whole), f"{min(max(share, 0.0), 100.0):.1f}")


@dataclass(frozen=True)
class ClassStats:
    """The headline numbers."""

    size: int
    """Submissions."""
    graded: int
    """Submissions graded."""
    errored: int
    """Submissions that could not be graded."""
    max_score: str
    """Points available."""
    mean: str
    """Mean points, ungraded submissions at 0."""
    median: str
    """Median points."""
    mean_percent: str
    """Mean percent."""
    median_percent: str
    """Median percent."""


@dataclass(frozen=True)
class ExerciseStat:
    """How the class did in one exercise."""

    name: str
    """Exercise module stem."""
    mean: str
    """Mean points over the submissions that had its tests."""
    max_score: str
    """Points available."""
    rate: Rate
    """mean over max_score."""
    students: int
    """Submissions that had its tests."""


@dataclass(frozen=True)
class TestStat:
    """How the class did in one test."""

    exercise: str
    """Exercise the test belongs to."""
    title: str
    """The test's name."""
    function: str
    """The function under test, as labelled on the pages."""
    hidden: bool
    """Whether the test is hidden from students."""
    passed: int
    """Submissions that passed it."""
    total: int
    """Submissions it ran for."""
    rate: Rate
    """passed over total."""


@dataclass(frozen=True)
class MisconceptionStat:
    """One pitfall and the students whose failing tests show it."""

    sentence: str
    """The misconception in the lesson's words."""
    functions: tuple[str, ...]
    """Functions whose tests detected it."""
    students: int
    """How many students."""
    rate: Rate
    """students over the submissions graded."""
    who: Sequence[StudentLink]
    """The students, by id."""


@dataclass(frozen=True)
class Cell:
    """One cell of the students table."""

    text: str
    """As shown."""
    sort: str
    """The key the table sorts the column by."""


@dataclass(frozen=True)
class StudentRow:
    """One submission in the students table."""

    student_id: str
    """The id as shown."""
    href: str
    """Relative link to the student's page."""
    score: Cell
    """Points earned of points available."""
    percent: Cell
    """The score in percent."""
    cells: tuple[Cell, ...]
    """Points per exercise, in the page's exercise order."""
    errored: bool
    """Whether the submission could not be graded."""


def percents(students: Sequence[Tally]) -> list[float]:
    return [percent_value(s.score, s.max_score) for s in students]


def class_stats(students: Sequence[Tally]) -> ClassStats:
    """Mean and median over every submission; one that could not be graded counts as 0."""
    scores = [s.score for s in students] or [0.0]
    shares = percents(students) or [0.0]
    top = max([s.max_score for s in students] or [0.0])
    errored = sum(s.status == "error" for s in students)
    return ClassStats(len(students), len(students) - errored, errored, fmt_points(top),
                      fmt_points(statistics.fmean(scores)), fmt_points(statistics.median(scores)),
                      fmt_percent_value(round_percent(statistics.fmean(shares))),
                      fmt_percent_value(round_percent(statistics.median(shares))))


def exercise_stats(students: Sequence[Tally], names: Sequence[str]) -> tuple[ExerciseStat, ...]:
    """Mean points of each exercise named, over the submissions that had its tests."""
    rows = []
    for name in names:
        totals = [found for found in (s.points(name) for s in students) if found is not None]
        mean = statistics.fmean(a for a, _ in totals)
        top = max(b for _, b in totals)
        rows.append(ExerciseStat(name, fmt_points(mean), fmt_points(top), rate(mean, top),
                                 len(totals)))
    return tuple(rows)


def student_row(student: Tally, exercises: Sequence[str]) -> StudentRow:
    """The student's row, a cell for each of exercises ('—' for those none of its tests ran)."""
    cells = []
    for name in exercises:
        found = student.points(name)
        cells.append(Cell("—", "-1") if found is None else
                     Cell(f"{fmt_points(found[0])} / {fmt_points(found[1])}", f"{found[0]:.4f}"))
    return StudentRow(safe_text(student.id), student_href(student.id),
                      Cell(f"{fmt_points(student.score)} / {fmt_points(student.max_score)}",
                           f"{student.score:.4f}"),
                      Cell(fmt_percent(student.score, student.max_score),
                           f"{percent_value(student.score, student.max_score):.4f}"),
                      tuple(cells), student.status == "error")


class TestTally:
    """Passes and runs of each test, gathered one submission at a time."""

    __test__ = False  # a tally, not a pytest test class

    def __init__(self) -> None:
        self._first: Earliest[str, TestOutcome] = Earliest()
        self._counts: dict[str, list[int]] = {}

    def add(self, result: SubmissionResult) -> None:
        """Count the tests of one more submission."""
        for test in result.tests:
            self._first.see(test.id, result.id, test)
            tally = self._counts.setdefault(test.id, [0, 0])
            tally[0] += test.outcome == "passed"
            tally[1] += 1

    def stats(self) -> tuple[TestStat, ...]:
        """Pass rate of each test among the submissions it ran for, hardest first (ties in
        handout order)."""
        first = dict(self._first.ordered())
        counts = self._counts
        order = exercise_order(first.values())
        ids = sorted(first, key=lambda i: order.index(first[i].exercise))
        ids.sort(key=lambda i: counts[i][0] / counts[i][1])  # stable: ties keep handout order
        return tuple(TestStat(first[i].exercise, safe_text(first[i].name),
                              function_label(first[i]), first[i].visibility == "hidden",
                              counts[i][0], counts[i][1], rate(counts[i][0], counts[i][1]))
                     for i in ids)


class MisconceptionTally:
    """The students whose failing tests show each pitfall, gathered one submission at a time."""

    def __init__(self) -> None:
        # A list rather than a set: a few bytes per student, repeats dropped by stats().
        self._students: dict[str, list[str]] = {}
        self._sentence: Earliest[str, str] = Earliest()
        self._functions: dict[str, Earliest[str, None]] = {}

    def add(self, result: SubmissionResult) -> None:
        """Count the failing tests of one more submission."""
        counted: set[str] = set()
        for test in result.tests:
            key = test.pitfall or test.misconception
            if test.outcome == "passed" or not key:
                continue
            if key not in counted:
                counted.add(key)
                self._students.setdefault(key, []).append(result.id)
            if test.misconception:
                self._sentence.see(key, result.id, test.misconception)
            self._functions.setdefault(key, Earliest()).see(function_label(test), result.id, None)

    def stats(self, graded: int) -> tuple[MisconceptionStat, ...]:
        """How many students failed at least one test with each pitfall, most common first;
        graded: the submissions graded, which the rates are of."""
        counts = {k: len(set(ids)) for k, ids in self._students.items()}
        keys = sorted(counts, key=lambda k: (-counts[k], k))[:TOP_MISCONCEPTIONS]
        return tuple(MisconceptionStat(
            safe_text(self._sentence.get(k) or "") or safe_text(k),
            tuple(label for label, _ in self._functions[k].ordered()), counts[k],
            rate(counts[k], graded), Rows(sorted(set(self._students[k])), student_link))
            for k in keys)
