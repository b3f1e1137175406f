"""The Markdown summary appended to $GITHUB_STEP_SUMMARY (GitHub Actions' job page).

Per submission: one table row per function (exercise, function, points, PASS/FAIL/TODO), the
exercises not started yet folded into one row, a total row, what went wrong in each failing
function, then every hint once. Hidden tests are shown as `--reveal` allows on the feedback
page (grader.reports.junit.shown_tests): under "none" a failing function says how many hidden
tests failed and gives the lesson's words, never their names or messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from grader.check import FunctionSummary
from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.reports.context import (
    Reveal,
    exercise_order,
    fix_items,
    fmt_percent,
    fmt_points,
    known_order,
)
from grader.reports.junit import reveal_level, shown_tests
from grader.reports.tally import Tally, tally

# Backslash-escaping these keeps student text literal: no tables split by '|', no HTML, no links.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#~!])")
# How the sandbox words a module or function the submission does not have: as unstarted as a stub.
_MISSING = "was not found in your submission"
_TABLE_HEAD = ("| Exercise | Function | Points | Status |", "|---|---|---|---|")


def md_cell(text: str) -> str:
    """text made safe for one Markdown table cell or list item (one line, no markup)."""
    one_line = " ".join(text.split())
    return _MD_SPECIAL.sub(r"\\\1", one_line)


@dataclass(frozen=True)
class FunctionRow:
    """How one function of a submission fared, hidden tests included."""

    exercise: str
    function: str | None
    """None for an exercise's module-level checks."""
    tests: tuple[TestOutcome, ...]

    @property
    def score(self) -> float:
        """Points earned."""
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        """Points available."""
        return sum(t.max_score for t in self.tests)

    @property
    def status(self) -> str:
        """PASS, FAIL, or TODO when the function is still the stub (as `grade check` says) or
        is missing from the submission."""
        failures = tuple(t for t in self.tests if t.outcome != "passed")
        if not failures:
            return "PASS"
        passed = len(self.tests) - len(failures)
        stub = FunctionSummary(self.exercise, self.function or self.exercise, passed,
                               len(self.tests), failures).not_started
        missing = not passed and all(t.message.endswith(_MISSING) for t in failures)
        return "TODO" if stub or missing else "FAIL"


def function_rows(result: SubmissionResult) -> list[FunctionRow]:
    """One row per function, in the lesson's exercise order, functions in suite order."""
    groups: dict[tuple[str, str | None], list[TestOutcome]] = {}
    for test in result.tests:
        groups.setdefault((test.exercise, test.function), []).append(test)
    order = exercise_order(result.tests)
    keys = sorted(groups, key=lambda key: order.index(key[0]))  # stable: suite order kept
    return [FunctionRow(e, f, tuple(groups[(e, f)])) for e, f in keys]


def _points(score: float, max_score: float) -> str:
    """'earned / available', as the feedback page writes points."""
    return f"{fmt_points(score)} / {fmt_points(max_score)}"


def _table(rows: Sequence[FunctionRow], result: SubmissionResult) -> list[str]:
    """The function table: exercises with nothing started share one row, then the total."""
    untouched = [e for e in dict.fromkeys(r.exercise for r in rows)
                 if all(r.status == "TODO" for r in rows if r.exercise == e)]
    lines = list(_TABLE_HEAD)
    for row in (r for r in rows if r.exercise not in untouched):
        name = f"{row.function}()" if row.function else "module checks"
        lines.append(f"| {md_cell(row.exercise)} | {md_cell(name)} | "
                     f"{_points(row.score, row.max_score)} | {row.status} |")
    if untouched:
        folded = [r for r in rows if r.exercise in untouched]
        lines.append(f"| {md_cell(', '.join(untouched))} | not started | "
                     f"{_points(sum(r.score for r in folded), sum(r.max_score for r in folded))}"
                     " | TODO |")
    counts = ", ".join(f"{sum(r.status == s for r in rows)} {s}" for s in ("PASS", "FAIL", "TODO"))
    lines.append(f"| **Total** | | **{_points(result.score, result.max_score)}** "
                 f"({fmt_percent(result.score, result.max_score)}) | {counts} |")
    return lines


def _failing_function(row: FunctionRow, reveal: Reveal) -> list[str]:
    """A FAIL row's explanation: the feedback page's sentence, then the failing tests that may
    be named (with their message's first line where it may be shown) and a count of the rest."""
    fix = fix_items(row.tests, reveal)[0]
    lines = [f"- **{md_cell(fix.function)}** ({_points(row.score, row.max_score)}): "
             f"{md_cell(fix.sentence)}"]
    unnamed = 0
    for item in shown_tests(row.tests, reveal):
        if item.test.outcome == "passed":
            continue
        if not item.named:
            unnamed += 1
            continue
        said = item.message.splitlines()[0] if item.message.strip() else item.test.outcome
        kind = " (hidden)" if item.test.visibility == "hidden" else ""
        lines.append(f"  - {md_cell(item.title)}{kind}: {md_cell(said)}")
    if unnamed:
        lines.append(f"  - {unnamed} hidden test{'s' if unnamed > 1 else ''} failed")
    return lines


def _section(result: SubmissionResult, reveal: Reveal) -> list[str]:
    """One submission's part of the summary."""
    head = ["", f"### {md_cell(result.id)}", ""]
    if result.status == "error":
        return head + [f"Not graded: {md_cell(result.error or 'the submission could not be read')}"]
    rows = function_rows(result)
    lines = head + _table(rows, result)
    failing = [line for r in rows if r.status == "FAIL" for line in _failing_function(r, reveal)]
    if failing:
        lines += ["", "**What went wrong**", "", *failing]
    not_passed = [t for t in result.tests if t.outcome != "passed"]
    hints = dict.fromkeys(h for item in fix_items(not_passed, reveal) for h in item.hints)
    if hints:
        lines += ["", "**Hints**", "", *(f"- {md_cell(h)}" for h in hints)]
    return lines


def _class_table(students: Sequence[Tally], columns: Sequence[str]) -> Iterator[str]:
    """With several submissions, a table of everyone's scores by exercise comes first."""
    yield "| " + " | ".join(["Student", "Score", *(md_cell(c) for c in columns)]) + " |"
    yield "|" + "---|" * (2 + len(columns))
    for student in students:
        cells = [md_cell(student.id), "not graded" if student.status == "error" else
                 f"{_points(student.score, student.max_score)} "
                 f"({fmt_percent(student.score, student.max_score)})"]
        for exercise in columns:
            found = student.points(exercise)
            cells.append(_points(*found) if found is not None else "–")
        yield "| " + " | ".join(cells) + " |"


class SummaryBuilder:
    """github_summary_markdown gathered one submission at a time: per student only its totals
    are kept, and the sections of the first max_sections submissions."""

    def __init__(self, *, reveal: str = "none", max_sections: int = 50,
                 warnings: Sequence[str] = ()) -> None:
        self._level = reveal_level(reveal)
        self._max_sections = max_sections
        self._warnings = tuple(warnings)
        self._students: list[Tally] = []
        self._columns: dict[str, None] = {}
        self._sections: list[str] = []

    def add(self, result: SubmissionResult, totals: Tally | None = None) -> None:
        """Count one more submission; totals, when given, is tally(result)."""
        totals = tally(result) if totals is None else totals
        self._students.append(totals)
        self._columns.update(dict.fromkeys(name for name, _, _ in totals.exercises))
        if len(self._students) <= self._max_sections:
            self._sections += _section(result, self._level)

    def lines(self) -> Iterator[str]:
        """The summary's lines (without their line ends)."""
        yield "## Grading results"
        count = len(self._students)
        if count > 1:
            yield ""
            yield from _class_table(self._students, known_order(self._columns))
        yield from self._sections
        if count > self._max_sections:
            left = count - self._max_sections
            yield from ("", f"…and {left} more submissions: see the table above and results.json.")
        for warning in self._warnings:
            yield from ("", f"> Warning: {md_cell(warning)}")


def github_summary_markdown(
    run: GradeRun,
    *,
    reveal: str = "none",
    max_sections: int = 50,
) -> str:
    """The Markdown summary of run; reveal is `--reveal` ("none", "names" or "all").

    Only the first max_sections submissions get a section of their own, so that a whole class
    stays under GitHub's size limit for a step summary; the class table lists everyone.
    """
    builder = SummaryBuilder(reveal=reveal, max_sections=max_sections, warnings=run.warnings)
    for result in run.submissions:
        builder.add(result)
    return "\n".join(builder.lines()) + "\n"
