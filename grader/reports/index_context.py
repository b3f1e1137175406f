"""View model for the class summary page (index.html), for the instructor.

Unlike a student's page this one may quote hidden tests' messages: it never reaches students.
The page is gathered one submission at a time (IndexBuilder), so a class read back from disk one
result at a time is never held whole; grader.reports.index_stats and index_problems hold its
parts.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from grader.records import GradeRun, SubmissionResult
from grader.reports import svg
from grader.reports.context import RunFooter, known_order, run_footer
from grader.reports.index_problems import (
    DETAIL_CHARS as DETAIL_CHARS,
    KINDS as KINDS,
    Affected as Affected,
    ProblemGroup as ProblemGroup,
    ProblemKind as ProblemKind,
    ProblemTally,
    Rows as Rows,
    StudentLink as StudentLink,
    problem_groups as problem_groups,
    problem_kind as problem_kind,
)
from grader.reports.index_stats import (
    TOP_MISCONCEPTIONS as TOP_MISCONCEPTIONS,
    Cell as Cell,
    ClassStats,
    Earliest,
    ExerciseStat,
    MisconceptionStat,
    MisconceptionTally,
    Rate as Rate,
    StudentRow,
    TestStat,
    TestTally,
    class_stats,
    exercise_stats,
    percents,
    student_row,
)
from grader.reports.svg_parts import safe_text
from grader.reports.tally import Tally, tally


@dataclass(frozen=True)
class PageScript:
    """The page's one inline script and the Content-Security-Policy source that allows it."""

    text: Markup
    """The script, as rendered into the page."""
    digest: str
    """Its hash as the policy names it, e.g. 'sha256-…' (without the quotes)."""


@dataclass(frozen=True)
class IndexPage:
    """Everything the class summary shows."""

    stats: ClassStats
    """The headline numbers."""
    histogram: Markup
    """The score distribution, inline SVG."""
    exercise_names: tuple[str, ...]
    """Exercise module stems, in handout order."""
    exercise_heads: tuple[Markup, ...]
    """The same as column headings that may break after an underscore."""
    exercises: tuple[ExerciseStat, ...]
    """Mean score per exercise."""
    tests: tuple[TestStat, ...]
    """Pass rate per test, hardest first."""
    misconceptions: tuple[MisconceptionStat, ...]
    """The most common misconceptions, most common first."""
    problems: tuple[ProblemGroup, ...]
    """Tests stopped before an answer, grouped by kind."""
    troubled: int
    """Submissions in at least one problem group."""
    students: Sequence[StudentRow]
    """Every submission, by id (each row made as the page is written)."""
    footer: RunFooter
    """Version, seed, isolation and warnings of the run."""

    def script(self, *parts: str) -> PageScript:
        """The parts (the shared sorting, this page's filter) as one script, and its hash.

        The page's policy allows this one script by its hash and no other, so even a student id
        that slipped past escaping could not run code on the instructor's page. A method, as the
        template that writes the parts reaches only the page."""
        text = Markup("\n").join(Markup(p) for p in parts)
        digest = base64.b64encode(hashlib.sha256(str(text).encode("utf-8")).digest())
        return PageScript(text, f"sha256-{digest.decode('ascii')}")


def _breakable(name: str) -> Markup:
    """An exercise name that may wrap after each underscore, so narrow columns stay narrow."""
    return Markup("_<wbr>").join(safe_text(name).split("_"))


class IndexBuilder:
    """The class summary gathered one submission at a time, in any order: page() is what
    index_page says of the same submissions."""

    def __init__(self) -> None:
        self._students: list[Tally] = []
        self._exercises: Earliest[str, None] = Earliest()
        self._tests = TestTally()
        self._misconceptions = MisconceptionTally()
        self._problems = ProblemTally()

    def add(self, result: SubmissionResult, totals: Tally | None = None) -> None:
        """Count one more submission; totals, when given, is tally(result)."""
        totals = tally(result) if totals is None else totals
        self._students.append(totals)
        for name, _, _ in totals.exercises:
            self._exercises.see(name, result.id, None)
        self._tests.add(result)
        self._misconceptions.add(result)
        self._problems.add(result)

    def page(self, footer: RunFooter) -> IndexPage:
        """The page of every submission added, students by id."""
        students = sorted(self._students, key=lambda s: s.id)  # stable: equal ids as they came
        names = known_order(name for name, _ in self._exercises.ordered())
        problems = self._problems.groups()
        # The rows are made from the tallies while the page is written, not held all at once.
        rows = Rows(students, functools.partial(student_row, exercises=names))
        return IndexPage(
            stats=class_stats(students),
            histogram=svg.histogram(percents(students), 100.0, unit="percent"),
            exercise_names=names, exercise_heads=tuple(map(_breakable, names)),
            exercises=exercise_stats(students, names), tests=self._tests.stats(),
            misconceptions=self._misconceptions.stats(sum(s.status != "error" for s in students)),
            problems=problems,
            troubled=self._problems.troubled(), students=rows, footer=footer)


def index_page(run: GradeRun) -> IndexPage:
    """The page of run, from one pass over its submissions."""
    builder = IndexBuilder()
    for result in run.submissions:
        builder.add(result)
    return builder.page(run_footer(run))
