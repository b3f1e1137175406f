"""View model for the class summary page (index.html), for the instructor.

Unlike a student's page this one may quote hidden tests' messages: it never reaches students.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.reports import svg
from grader.reports.gradebook import round_percent
from grader.reports.context import (
    RunFooter,
    by_exercise,
    clip,
    exercise_order,
    fmt_percent,
    fmt_percent_value,
    fmt_points,
    function_label,
    percent_value,
    run_footer,
    student_href,
)
from grader.reports.svg_parts import safe_text

TOP_MISCONCEPTIONS = 10


@dataclass(frozen=True)
class Rate:
    """A share drawn as a CSS bar whose number is also written out, so it never relies on colour."""

    text: str
    width: str


def rate(part: float, whole: float) -> Rate:
    share = percent_value(part, whole)
    return Rate(fmt_percent(part, whole), f"{min(max(share, 0.0), 100.0):.1f}")


@dataclass(frozen=True)
class ClassStats:
    size: int
    graded: int
    errored: int
    max_score: str
    mean: str
    median: str
    mean_percent: str
    median_percent: str


@dataclass(frozen=True)
class ExerciseStat:
    name: str
    mean: str
    max_score: str
    rate: Rate
    students: int


@dataclass(frozen=True)
class TestStat:
    exercise: str
    title: str
    function: str
    hidden: bool
    passed: int
    total: int
    rate: Rate


@dataclass(frozen=True)
class MisconceptionStat:
    sentence: str
    functions: tuple[str, ...]
    students: int
    rate: Rate


@dataclass(frozen=True)
class TroubleRow:
    student_id: str
    href: str
    summary: str
    detail: str


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str


@dataclass(frozen=True)
class StudentRow:
    student_id: str
    href: str
    score: Cell
    percent: Cell
    cells: tuple[Cell, ...]
    errored: bool


@dataclass(frozen=True)
class IndexPage:
    stats: ClassStats
    histogram: Markup
    exercise_names: tuple[str, ...]
    exercises: tuple[ExerciseStat, ...]
    tests: tuple[TestStat, ...]
    misconceptions: tuple[MisconceptionStat, ...]
    trouble: tuple[TroubleRow, ...]
    students: tuple[StudentRow, ...]
    footer: RunFooter


def _percents(subs: Sequence[SubmissionResult]) -> list[float]:
    return [percent_value(s.score, s.max_score) for s in subs]


def class_stats(subs: Sequence[SubmissionResult]) -> ClassStats:
    """Mean and median over every submission; one that could not be graded counts as 0."""
    scores = [s.score for s in subs] or [0.0]
    percents = _percents(subs) or [0.0]
    top = max([s.max_score for s in subs] or [0.0])
    errored = sum(s.status == "error" for s in subs)
    return ClassStats(len(subs), len(subs) - errored, errored, fmt_points(top),
                      fmt_points(statistics.fmean(scores)), fmt_points(statistics.median(scores)),
                      fmt_percent_value(round_percent(statistics.fmean(percents))),
                      fmt_percent_value(round_percent(statistics.median(percents))))


def _all_tests(subs: Sequence[SubmissionResult]) -> list[TestOutcome]:
    return [t for s in subs for t in s.tests]


Grouped = dict[str, list[TestOutcome]]
"""A submission's tests by exercise (context.by_exercise)."""


def exercise_stats(subs: Sequence[SubmissionResult],
                   grouped: Sequence[Grouped] | None = None) -> tuple[ExerciseStat, ...]:
    """grouped, when given, holds by_exercise(s.tests) for each of subs."""
    groups = [by_exercise(s.tests) for s in subs] if grouped is None else grouped
    rows = []
    for name in exercise_order(_all_tests(subs)):
        totals = [(sum(t.score for t in g[name]), sum(t.max_score for t in g[name]))
                  for g in groups if name in g]
        mean = statistics.fmean(a for a, _ in totals)
        top = max(b for _, b in totals)
        rows.append(ExerciseStat(name, fmt_points(mean), fmt_points(top), rate(mean, top),
                                 len(totals)))
    return tuple(rows)


def test_stats(subs: Sequence[SubmissionResult]) -> tuple[TestStat, ...]:
    """Pass rate of each test among the submissions it ran for, in handout order."""
    first: dict[str, TestOutcome] = {}
    counts: dict[str, list[int]] = {}
    for t in _all_tests(subs):
        tally = counts.get(t.id)
        if tally is None:
            first[t.id] = t
            tally = counts[t.id] = [0, 0]
        if t.outcome == "passed":
            tally[0] += 1
        tally[1] += 1
    order = exercise_order(first.values())
    ids = sorted(first, key=lambda i: order.index(first[i].exercise))
    return tuple(TestStat(first[i].exercise, safe_text(first[i].name), function_label(first[i]),
                          first[i].visibility == "hidden", counts[i][0], counts[i][1],
                          rate(counts[i][0], counts[i][1])) for i in ids)


def misconception_stats(subs: Sequence[SubmissionResult]) -> tuple[MisconceptionStat, ...]:
    """How many students failed at least one test with each pitfall, most common first."""
    students: dict[str, set[str]] = {}
    sentence: dict[str, str] = {}
    functions: dict[str, dict[str, None]] = {}
    for s in subs:
        for t in s.tests:
            if t.outcome == "passed":
                continue
            key = t.pitfall or t.misconception
            if not key:
                continue
            students.setdefault(key, set()).add(s.id)
            if t.misconception and not sentence.get(key):
                sentence[key] = safe_text(t.misconception)
            functions.setdefault(key, {})[function_label(t)] = None
    keys = sorted(students, key=lambda k: (-len(students[k]), k))[:TOP_MISCONCEPTIONS]
    graded = sum(s.status != "error" for s in subs)
    return tuple(MisconceptionStat(sentence.get(k) or safe_text(k), tuple(functions[k]),
                                   len(students[k]), rate(len(students[k]), graded))
                 for k in keys)


def _trouble(sub: SubmissionResult) -> TroubleRow | None:
    """A submission that could not be graded, or whose code timed out, crashed or raised."""
    href = student_href(sub.id)
    if sub.status == "error":
        return TroubleRow(safe_text(sub.id), href, "could not be graded",
                          clip(sub.error or "", 300))
    bad = [t for t in sub.tests if t.outcome in ("timeout", "error")]
    if not bad:
        return None
    timeouts = sum(t.outcome == "timeout" for t in bad)
    parts = ([f"{timeouts} timed out"] if timeouts else []) + (
        [f"{len(bad) - timeouts} raised or crashed"] if len(bad) > timeouts else [])
    names = ", ".join(dict.fromkeys(t.function or t.exercise for t in bad))
    return TroubleRow(safe_text(sub.id), href, f"{' and '.join(parts)} ({safe_text(names)})",
                      clip(bad[0].message, 300))


def student_row(sub: SubmissionResult, exercises: Sequence[str],
                grouped: Grouped | None = None) -> StudentRow:
    """grouped, when given, is by_exercise(sub.tests)."""
    groups = by_exercise(sub.tests) if grouped is None else grouped
    cells = []
    for name in exercises:
        mine = groups.get(name, [])
        score = sum(t.score for t in mine)
        text = f"{fmt_points(score)} / {fmt_points(sum(t.max_score for t in mine))}" \
            if mine else "—"
        cells.append(Cell(text, f"{score:.4f}" if mine else "-1"))
    return StudentRow(safe_text(sub.id), student_href(sub.id),
                      Cell(f"{fmt_points(sub.score)} / {fmt_points(sub.max_score)}",
                           f"{sub.score:.4f}"),
                      Cell(fmt_percent(sub.score, sub.max_score),
                           f"{percent_value(sub.score, sub.max_score):.4f}"),
                      tuple(cells), sub.status == "error")


def index_page(run: GradeRun) -> IndexPage:
    subs = sorted(run.submissions, key=lambda s: s.id)
    names = exercise_order(_all_tests(subs))
    grouped = [by_exercise(s.tests) for s in subs]
    trouble = tuple(row for row in map(_trouble, subs) if row is not None)
    return IndexPage(
        stats=class_stats(subs),
        histogram=svg.histogram(_percents(subs), 100.0, unit="percent"),
        exercise_names=names, exercises=exercise_stats(subs, grouped), tests=test_stats(subs),
        misconceptions=misconception_stats(subs), trouble=trouble,
        students=tuple(student_row(s, names, g) for s, g in zip(subs, grouped)),
        footer=run_footer(run))
