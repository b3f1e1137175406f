"""`grade check`: a student grades their own work on their own machine with the visible tests.

It runs the same engine as the instructor's `grade`, so a visible test passes or fails here exactly
as it does when grading; the hidden tests are left out of what the student sees.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader import course, single, submissions
from grader.atomic import write_text_atomic
from grader.engine import GradeOptions, grade_submissions
from grader.errors import UsageError
from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.reports import html

FEEDBACK_DIR = "feedback"
FEEDBACK_PAGE = "feedback.html"


@dataclass(frozen=True)
class FunctionSummary:
    """How one function of the student's fared on the visible tests."""

    exercise: str
    """Exercise module, e.g. 'losses'."""
    function: str
    """Function name, or the exercise name for module-level checks."""
    passed: int
    """Visible tests passed."""
    total: int
    """Visible tests run."""
    failures: tuple[TestOutcome, ...]
    """The failed tests, in suite order."""

    @property
    def not_started(self) -> bool:
        """Whether the function is still the handout's stub (every test says so)."""
        return self.passed == 0 and all(t.pitfall == "not_implemented" for t in self.failures)

    @property
    def failing(self) -> bool:
        """Whether a visible test failed on work the student has begun (a FAIL, not a TODO)."""
        return bool(self.failures) and not self.not_started


@dataclass(frozen=True)
class CheckReport:
    """What `grade check` found: the result, the page it wrote and the per-function summary."""

    result: SubmissionResult
    """The student's result, visible tests only."""
    page: Path
    """The feedback page written."""
    functions: tuple[FunctionSummary, ...]
    """One entry per function tested, in suite order."""
    warnings: tuple[str, ...]
    """Run-level warnings (weaker isolation than on the grading server, ...)."""

    @property
    def exit_code(self) -> int:
        """What `grade check` exits with: FAILED_EXIT when a function failed, else 0.

        Functions not started yet do not count: a student (or their CI) can check each function
        as it is done, and the command still says when one of them is wrong.
        """
        return FAILED_EXIT if any(f.failing for f in self.functions) else 0


#: Exit code of `grade check` when a public check failed: 1, as `grade --fail-under` below its
#: threshold (2 and up are errors of the command itself).
FAILED_EXIT = 1


class CheckNotRun(UsageError):
    """No public check could run on work that was found: a fault of the installation, said in
    one line (with a non-zero exit) instead of a report of 0 / 0 points."""


PORTABLE_WARNING = (
    "this machine cannot fork a sandbox ({platform}): your functions ran in plain Python "
    "processes, with the time limit but without memory limits or file-system isolation. "
    "That is fine for your own work; the grading server confines every submission fully.")


def needs_portable() -> bool:
    """Whether this machine lacks what the sandbox is built on (fork, passing sockets between
    processes): Windows. The check then runs without it instead of failing."""
    import socket

    return sys.platform == "win32" or not hasattr(os, "fork") or not hasattr(socket, "send_fds")


def present_exercises(modules: dict[str, str], wanted: tuple[str, ...]) -> tuple[str, ...]:
    """The wanted exercises the student has a module for (all wanted ones when none is found).

    A student who has only started the first exercise should not see a wall of failures about
    files they have not opened yet.
    """
    present = tuple(e for e in wanted if e in modules)
    return present or wanted


def check_options(exercises: tuple[str, ...], timeout: float, hide: tuple[str, ...],
                  portable: bool = False) -> GradeOptions:
    """Engine options for one student's check: one judge, visible tests only."""
    return GradeOptions(jobs=1, exercises=exercises, timeout=timeout, hide=hide, visible_only=True,
                        portable=portable)


def visible_only(run: GradeRun) -> GradeRun:
    """The run with hidden tests removed and every score recomputed from the visible ones."""
    kept = []
    for result in run.submissions:
        tests = tuple(t for t in result.tests if t.visibility == "visible")
        kept.append(dataclasses.replace(
            result, tests=tests,
            score=round(sum(t.score for t in tests), 6),
            max_score=round(sum(t.max_score for t in tests), 6)))
    return dataclasses.replace(run, submissions=tuple(kept))


def summarize(result: SubmissionResult) -> tuple[FunctionSummary, ...]:
    """Group a result's tests by function, keeping the suite's order."""
    groups: dict[tuple[str, str], list[TestOutcome]] = {}
    for test in result.tests:
        groups.setdefault((test.exercise, test.function or test.exercise), []).append(test)
    return tuple(
        FunctionSummary(exercise=exercise, function=function,
                        passed=sum(t.outcome == "passed" for t in tests), total=len(tests),
                        failures=tuple(t for t in tests if t.outcome != "passed"))
        for (exercise, function), tests in groups.items())


def run_check(folder: Path, out_dir: Path | None = None, *,
              exercises: tuple[str, ...] | None = None, timeout: float = 2.0,
              on_done: Callable[[str], None] = lambda _id: None,
              portable: bool | None = None) -> CheckReport:
    """Grade the work in folder with the visible tests; write the feedback page into out_dir.

    out_dir defaults to folder/feedback. UsageError for a missing folder or one with no exercises.
    `portable` (default: when the machine needs it) runs without the sandbox, with a warning.
    """
    portable = needs_portable() if portable is None else portable
    exercises = exercises or course.exercises()
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    out_dir = out_dir if out_dir is not None else folder / FEEDBACK_DIR
    name = submissions.safe_id(folder.resolve().name or "my-work")
    submission = single.discover_one(folder, name)
    if submission.error is not None:
        raise UsageError(submission.error)
    options = check_options(present_exercises(submission.sources, exercises), timeout,
                            (str(folder.resolve()), str(out_dir.resolve())), portable)
    run = visible_only(grade_submissions([submission], options, on_done))
    if not run.submissions[0].tests:
        raise CheckNotRun(_not_run_message(run.submissions[0], options.exercises))
    if portable:
        # Said in the student's words instead of the list of missing isolation steps.
        warning = PORTABLE_WARNING.format(platform=sys.platform)
        run = dataclasses.replace(run, warnings=(warning,))
    result = run.submissions[0]
    page = _write_page(run, result, out_dir)
    return CheckReport(result=result, page=page, functions=summarize(result),
                       warnings=run.warnings)


def _not_run_message(result: SubmissionResult, exercises: tuple[str, ...]) -> str:
    why = f": {result.error}" if result.error else ""
    return (f"no public check could run for {', '.join(exercises)}{why}; reinstall the grader "
            "your course hands out, and tell your instructor if this persists")


def _write_page(run: GradeRun, result: SubmissionResult, out_dir: Path) -> Path:
    """The student's feedback page, as the instructor's run would render it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / FEEDBACK_PAGE
    write_text_atomic(page, html.render_feedback(html.make_environment(), run, result,
                                                 reveal="none"))
    return page
