"""View models for the student feedback page: typed, already-worded data for the templates.

Every decision about what a student may see (a hidden test's message, whether the page may say
that everything passed) is made here, in plain Python that the tests can reach; the templates only
lay the result out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote

from markupsafe import Markup

from grader import course
from grader.records import Curve, Entry, GradeRun, SubmissionResult, TestOutcome
from grader.reports import svg
from grader.reports.causes import blocking_cause
from grader.reports.curves import differing_ranges
from grader.reports.failed_plots import failed_plot
from grader.reports.fix_first import (
    SAFE_MESSAGE_ENDINGS as SAFE_MESSAGE_ENDINGS,
    SHARED_MESSAGE_CHARS as SHARED_MESSAGE_CHARS,
    Blocker,
    FixItem as FixItem,
    cause_note,
    fix_first,
    fix_items as fix_items,
    section_blocker,
)
from grader.reports.gradebook import percent
from grader.reports.grading_details import GradingDetails, grading_details
from grader.reports.shared import Shared, outcome_key
from grader.reports.svg_parts import safe_text

# Defined in grader.reports.wording (shared with the modules this page's views are split into)
# and named here too, where the other reports have always imported them from.
from grader.reports.wording import (
    MAX_MESSAGE_CHARS as MAX_MESSAGE_CHARS,
    REVEALS as REVEALS,
    Reveal as Reveal,
    clip as clip,
    dedupe,
    fmt_points as fmt_points,
    function_label as function_label,
)

_OUTCOME_WORDS = {"passed": ("✓", "passed"), "failed": ("✗", "failed"),
                  "error": ("✗", "error"), "timeout": ("✗", "timed out")}


def percent_value(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score > 0 else 0.0


def fmt_percent(score: float, max_score: float) -> str:
    """The percent of grades.csv (gradebook.percent: one decimal, rounded, 100% only when every
    point was earned), without a trailing .0: 3.6%, 16.7%, 60%."""
    return fmt_percent_value(percent(score, max_score))


def fmt_percent_value(value: float) -> str:
    """A percent already rounded to one decimal, as shown: 3.6%, 60%."""
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"


def student_href(student_id: str) -> str:
    """Relative link to a student's page; quoting every reserved character keeps an id such as
    '//evil' or 'javascript:x' a plain path segment."""
    return quote(student_id, safe="") + "/feedback.html"


def exercise_order(tests: Iterable[TestOutcome]) -> tuple[str, ...]:
    """The known exercises in handout order, then any others in the order they appear."""
    return _in_order(dict.fromkeys(t.exercise for t in tests))


def known_order(exercises: Iterable[str]) -> tuple[str, ...]:
    """The named exercises as exercise_order orders them (repeats dropped)."""
    return _in_order(dict.fromkeys(exercises))


def _in_order(seen: Mapping[str, object]) -> tuple[str, ...]:
    known = course.exercises()
    return tuple([e for e in known if e in seen] + [e for e in seen if e not in known])


def by_exercise(tests: Iterable[TestOutcome]) -> dict[str, list[TestOutcome]]:
    """The tests of each exercise (in suite order), exercises in exercise_order."""
    groups: dict[str, list[TestOutcome]] = {}
    for t in tests:
        groups.setdefault(t.exercise, []).append(t)
    return {name: groups[name] for name in _in_order(groups)}


@dataclass(frozen=True)
class RunFooter:
    grader_version: str
    seed: int
    isolation: str
    warnings: tuple[str, ...]


def run_footer(run: GradeRun) -> RunFooter:
    return RunFooter(safe_text(run.grader_version), run.seed, safe_text(run.isolation),
                     tuple(safe_text(w) for w in run.warnings))


@dataclass(frozen=True)
class ExerciseScore:
    name: str
    score: str
    max_score: str
    percent: str
    passed: int
    total: int

    @property
    def complete(self) -> bool:
        return self.passed == self.total


def exercise_scores(tests: Sequence[TestOutcome]) -> tuple[ExerciseScore, ...]:
    return tuple(_exercise_score(name, mine) for name, mine in by_exercise(tests).items())


def _exercise_score(name: str, mine: Sequence[TestOutcome]) -> ExerciseScore:
    score, top = sum(t.score for t in mine), sum(t.max_score for t in mine)
    return ExerciseScore(name, fmt_points(score), fmt_points(top), fmt_percent(score, top),
                         sum(t.outcome == "passed" for t in mine), len(mine))


@dataclass(frozen=True)
class TestView:
    """One test as the student sees it; message is empty when it must not be shown."""

    title: str
    function: str
    outcome: str
    icon: str
    word: str
    points: str
    hidden: bool
    message: str
    misconception: str
    entries: tuple[Entry, ...] = ()
    """Expected and got side by side, differing entries marked (visible tests only)."""
    entries_note: str = ""


def test_view(test: TestOutcome, show_message: bool) -> TestView:
    icon, word = _OUTCOME_WORDS.get(test.outcome, ("✗", test.outcome))
    message = clip(test.message) if show_message and test.outcome != "passed" else ""
    # A hidden test's values would reveal its inputs: only visible tests show them.
    table = test.comparison if message and test.visibility == "visible" else ()
    return TestView(safe_text(test.name), function_label(test), test.outcome, icon, word,
                    f"{fmt_points(test.score)} / {fmt_points(test.max_score)}",
                    test.visibility == "hidden", message, safe_text(test.misconception),
                    table, test.comparison_note if table else "")


@dataclass(frozen=True)
class HiddenFailure:
    """What a student may learn about a failing hidden test under reveal=none."""

    function: str
    misconception: str
    hints: tuple[str, ...]


@dataclass(frozen=True)
class ExerciseSection:
    name: str
    score: ExerciseScore
    visible: tuple[TestView, ...]
    hidden_total: int
    hidden_passed: int
    hidden_listed: tuple[TestView, ...]
    """Hidden tests one by one: empty under reveal=none."""
    hidden_failures: tuple[HiddenFailure, ...]
    """Under reveal=none only: failing hidden tests, by function, with no message or title."""
    blocked: Blocker | None = None
    """The one file-wide cause all its failing tests share, shown once instead of per test."""

    @property
    def hidden_not_passed(self) -> int:
        return self.hidden_total - self.hidden_passed


def _hidden_failures(hidden: Sequence[TestOutcome]) -> tuple[HiddenFailure, ...]:
    groups: dict[str, list[TestOutcome]] = {}
    for t in hidden:
        if t.outcome != "passed":
            groups.setdefault(function_label(t), []).append(t)
    return tuple(HiddenFailure(label, " ".join(dedupe(t.misconception for t in ts)),
                               dedupe(h for t in ts for h in t.hints))
                 for label, ts in groups.items())


def exercise_sections(tests: Sequence[TestOutcome], reveal: Reveal) -> tuple[ExerciseSection, ...]:
    return tuple(_shared_section(name, mine, reveal) for name, mine in by_exercise(tests).items())


_SECTIONS: Shared[ExerciseSection] = Shared(512)


def _shared_section(name: str, mine: Sequence[TestOutcome], reveal: Reveal) -> ExerciseSection:
    """The section of one exercise, shared with earlier students whose tests went the same way."""
    return _SECTIONS.get((reveal, name, tuple(map(outcome_key, mine))),
                         partial(_section, name, mine, reveal),
                         sum(len(t.message) for t in mine) <= SHARED_MESSAGE_CHARS)


def _section(name: str, mine: Sequence[TestOutcome], reveal: Reveal) -> ExerciseSection:
    hidden = [t for t in mine if t.visibility == "hidden"]
    return ExerciseSection(
        name, _exercise_score(name, mine),
        tuple(test_view(t, True) for t in mine if t.visibility != "hidden"),
        len(hidden), sum(t.outcome == "passed" for t in hidden),
        tuple(test_view(t, reveal == "all") for t in hidden) if reveal != "none" else (),
        _hidden_failures(hidden) if reveal == "none" else (), section_blocker(mine))


@dataclass(frozen=True)
class PlotView:
    title: str
    chart: Markup | None
    """The chart (always drawn: the reference alone when the student gave nothing to plot)."""
    caption: str
    note: str


#: Said under a plot that matches while its function lost points: the plot alone would say
#: the function is right.
UNSAMPLED_LOSS = (" It still lost points on inputs this plot does not sample: the failed tests "
                  "below say which.")


def plot_view(curve: Curve, uid: str, lost: bool = False,
              elsewhere: str = UNSAMPLED_LOSS) -> PlotView:
    """A plot of the student against the reference; the reference alone when the student gave
    nothing to plot. `lost`: whether the function lost points (a plot that matches then says
    the difference lies elsewhere, in the words of `elsewhere`)."""
    title = f"{curve.function}() in {curve.exercise}.py"
    chart, said = svg.chart(curve, uid)
    if curve.student is None:
        # The reference alone still shows what the function should look like.
        note = curve.note or "Your function did not return numbers that could be plotted."
        cause = blocking_cause(note)
        # The cause itself is told once, under "What to fix first": a few words are enough here.
        note = cause_note(cause) if cause is not None else note
        return PlotView(safe_text(title), chart, "", clip("No curve of yours: " + note, 1000))
    if lost and not differing_ranges(curve):
        said += safe_text(elsewhere)
    return PlotView(safe_text(title), chart, said, clip(curve.note, 1000))


def plot_views(curves: Sequence[Curve], tests: Sequence[TestOutcome], reveal: Reveal,
               lost: set[tuple[str, str | None]]) -> tuple[PlotView, ...]:
    """The page's plots, in order; a plot of where a test failed only as far as the test's
    visibility and `reveal` allow (grader.reports.failed_plots), and otherwise said in words
    under the function's own plot."""
    by_id = {t.id: t for t in tests}
    failed = {(c.exercise, c.function): found for c in curves if c.failed_test
              and (found := failed_plot(c, by_id.get(c.failed_test), reveal)) is not None}
    views = []
    for i, c in enumerate(curves):
        found = failed.get((c.exercise, c.function))
        if not c.failed_test:
            views.append(plot_view(c, f"plot{i}", (c.exercise, c.function) in lost,
                                   found.elsewhere if found is not None else UNSAMPLED_LOSS))
        elif found is not None and found.drawn:
            chart, said = svg.chart(c, f"plot{i}")
            views.append(PlotView(safe_text(found.title), chart, said, clip(found.note, 1000)))
    return tuple(views)


@dataclass(frozen=True)
class Advisory:
    where: str
    text: str


def advisories(tests: Sequence[TestOutcome], reveal: Reveal) -> tuple[Advisory, ...]:
    """Notes that cost no points; a hidden test is named only when its title may be shown."""
    found: dict[tuple[str, str], Advisory] = {}
    for t in tests:
        if not t.advisories:
            continue
        where = function_label(t)
        if t.visibility != "hidden" or reveal != "none":
            where += f" — {safe_text(t.name)}"
        for text in t.advisories:
            found.setdefault((where, text), Advisory(where, clip(text, 1000)))
    return tuple(found.values())


@dataclass(frozen=True)
class Verdict:
    ok: bool
    icon: str
    text: str


def verdict(result: SubmissionResult) -> Verdict:
    """The headline; it may say everything passed only when every test, hidden ones too, did."""
    total = len(result.tests)
    passed = sum(t.outcome == "passed" for t in result.tests)
    if result.status == "error":
        return Verdict(False, "✗", "This submission could not be graded.")
    if total == 0:
        return Verdict(False, "✗", "No tests ran for this submission.")
    if passed == total:
        return Verdict(True, "✓", f"All {total} tests passed, hidden tests included.")
    return Verdict(False, "✗", f"{passed} of {total} tests passed; {total - passed} did not "
                   "(hidden tests included).")


@dataclass(frozen=True)
class FeedbackPage:
    student_id: str
    is_error: bool
    error: str
    problems: tuple[str, ...]
    score: str
    max_score: str
    percent: str
    verdict: Verdict
    exercises: tuple[ExerciseScore, ...]
    blockers: tuple[Blocker, ...]
    """Files that stopped whole sets of tests, first in "What to fix first"."""
    fixes: tuple[FixItem, ...]
    """Every other failing function, the most points lost first."""
    plots: tuple[PlotView, ...]
    sections: tuple[ExerciseSection, ...]
    advisories: tuple[Advisory, ...]
    reveal: Reveal
    footer: RunFooter
    details: GradingDetails
    """The collapsed "Grading details" block, in plain words."""


def feedback_page(run: GradeRun, result: SubmissionResult, reveal: Reveal) -> FeedbackPage:
    if reveal not in REVEALS:
        raise ValueError(f"reveal must be one of {', '.join(REVEALS)}, not {reveal!r}")
    tests = result.tests
    sections = exercise_sections(tests, reveal)
    fixes = fix_first(tests, reveal)
    lost = {(t.exercise, t.function) for t in tests if t.score < t.max_score}
    error = clip(result.error or "The grader could not read this submission.") \
        if result.status == "error" else ""
    return FeedbackPage(
        student_id=safe_text(result.id), is_error=result.status == "error", error=error,
        problems=tuple(clip(p, 1000) for p in result.problems),
        score=fmt_points(result.score), max_score=fmt_points(result.max_score),
        percent=fmt_percent(result.score, result.max_score), verdict=verdict(result),
        exercises=tuple(s.score for s in sections), blockers=fixes.blockers, fixes=fixes.items,
        plots=plot_views(result.curves, tests, reveal, lost),
        sections=sections, advisories=advisories(tests, reveal),
        reveal=reveal, footer=run_footer(run), details=grading_details(run))
