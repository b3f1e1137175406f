"""Typed records passed between the grader's stages.

Submission -> (sandbox) CallResult -> (judge) TestOutcome -> SubmissionResult -> GradeRun.
Each stage reads the record of the one before it; nothing passes nested dicts around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Literal

Outcome = Literal["passed", "failed", "error", "timeout"]
Visibility = Literal["visible", "hidden"]
Status = Literal["graded", "error"]


@dataclass(frozen=True)
class Submission:
    """One student's work, discovered and unpacked, ready to be judged."""

    id: str
    """Submission id: the folder or archive name without its extension."""
    sources: dict[str, str]
    """Module name (file stem) -> source text, for every .py file found at the submission's top level."""
    problems: tuple[str, ...] = ()
    """Plain-language notes about the submission itself (skipped files, bad archive members, ...)."""
    origin: str = ""
    """The entry name in the submissions folder, as shown to the instructor."""
    error: str | None = None
    """Set when the submission cannot be graded at all (corrupt zip, nothing usable found)."""


@dataclass(frozen=True)
class CallResult:
    """What one call into a student's function came back with, already validated as plain data."""

    ok: bool
    """True when the function returned; False when it raised, crashed or hit a limit."""
    value: object = None
    """The returned value as plain data (ndarray, Python number, list) when ok."""
    kind: str = ""
    """When not ok: timeout, memory, crash, exception, not_implemented, missing_module,
    missing_function, import_error, bad_return, too_big (an array too large to send back,
    named by its size, dtype and shape in `message`), output."""
    message: str = ""
    """When not ok: what happened, in words a student understands."""
    after: tuple[object, ...] = ()
    """Each argument as it was after the call (None for arguments that are not arrays)."""
    stdout: str = ""
    """What the call printed, truncated to the output cap."""
    warnings: tuple[str, ...] = ()
    """Warning messages the call emitted (e.g. 'overflow encountered in exp')."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a visible test's expected and returned arrays, shown side by side."""

    index: str
    """Where the entry sits: '3', or '(1, 2)' in a 2-D array."""
    expected: str
    """The reference's value, as text."""
    got: str
    """The student's value, as text."""
    differs: bool
    """Whether the two differ beyond the test's tolerance."""


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """The verdict on one test of one submission."""

    __test__ = False  # a record, not a pytest test class

    id: str
    """Stable test id: '<suite file stem>::<test function name>'."""
    exercise: str
    """Exercise module stem the test belongs to (e.g. 'losses')."""
    function: str | None
    """Function under test, None for module-level checks."""
    name: str
    """Human-readable title (the test's docstring's first line)."""
    outcome: Outcome
    """passed, failed (wrong answer), error (student code raised or crashed) or timeout."""
    score: float
    """Points earned."""
    max_score: float
    """Points available."""
    visibility: Visibility
    """visible tests ship with the handout; hidden ones only run when grading."""
    message: str = ""
    """What went wrong, in a student's words; empty when passed."""
    hints: tuple[str, ...] = ()
    """Lesson hints for the misconception this test detects, shown when it fails."""
    pitfall: str | None = None
    """Id of the pitfall this test detects (see grader.pitfalls), if any."""
    misconception: str = ""
    """One sentence naming the misconception in the lesson's words, when a pitfall was detected."""
    advisories: tuple[str, ...] = ()
    """Notes that cost no points (overflow warnings and the like)."""
    duration: float = 0.0
    """Seconds the test took, judge side."""
    comparison: tuple[Entry, ...] = ()
    """Visible tests that got wrong values: entries of expected and got around the differences."""
    comparison_note: str = ""
    """Which entries `comparison` shows when the arrays are too large to show whole."""


@dataclass(frozen=True, slots=True)
class Curve:
    """A student's function sampled next to the reference, for the feedback plots."""

    exercise: str
    """Exercise module the function lives in."""
    function: str
    """Function name, e.g. 'mse'."""
    kind: Literal["line", "bars"]
    """How to draw it: the values against x, or one bar per entry (the course's plot of that
    function and kind names the axes, see grader.exercise_spec)."""
    x: tuple[float, ...]
    """Sample points: the x values, or for bars the entries' indices."""
    reference: tuple[float, ...]
    """Reference values at x."""
    student: tuple[float, ...] | None
    """Student values at x; None when the call did not return usable numbers."""
    note: str = ""
    """Why student is None (the call's error message), or other caption text; for a curve of
    where a test failed, the input it failed on in words."""
    failed_test: str = ""
    """'' for the course's own plots. Else the id of a test that found wrong values on an input
    the function's plots do not sample: the curve is that input's answers (kind bars, x the
    entries' indices; one row of a batch), shown as far as the test's visibility and the page's
    reveal level allow."""


@dataclass(frozen=True)
class SubmissionResult:
    """Everything the reports need to know about one graded submission."""

    id: str
    """Submission id."""
    status: Status
    """graded, or error when the submission could not be graded at all."""
    score: float
    """Points earned over all tests."""
    max_score: float
    """Points available over all tests."""
    tests: tuple[TestOutcome, ...]
    """One outcome per test, in suite order."""
    error: str | None = None
    """Why the submission could not be graded, when status is error."""
    problems: tuple[str, ...] = ()
    """Notes about the submission itself carried over from discovery."""
    curves: tuple[Curve, ...] = field(default=())
    """Plot data for the feedback page."""


@dataclass(frozen=True)
class GradeRun:
    """The result of grading a class: what results.json holds."""

    grader_version: str
    """Version of the grader package that produced the results."""
    seed: int
    """Seed for every random input; rerun with it to reproduce a failure."""
    isolation: str
    """Isolation actually used around student code, e.g. 'uid+userns+netns+mountns+rlimits'."""
    submissions: Sequence[SubmissionResult]
    """One result per submission, sorted by id: a tuple, or for a class graded into parts a
    sequence that reads each result from disk when asked (see grader.parts), so that a pass
    over the class holds one result at a time."""
    warnings: tuple[str, ...] = ()
    """Run-level warnings (weaker isolation than the default, ...)."""
