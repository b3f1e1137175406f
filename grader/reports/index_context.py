"""View model for the class summary page (index.html), for the instructor.

Unlike a student's page this one may quote hidden tests' messages: it never reaches students.
"""

from __future__ import annotations

import base64
import hashlib
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.reports import svg
from grader.reports.causes import blocking_cause
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
DETAIL_CHARS = 300
"""A quoted message is cut here: the page lists every affected student of a large class."""


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
class StudentLink:
    """A student named on the page, linked to their feedback page."""

    student_id: str
    """The id as shown."""
    href: str
    """Relative link to the student's page."""


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
    who: tuple[StudentLink, ...]
    """The students, by id."""


@dataclass(frozen=True)
class ProblemKind:
    """A kind of problem that kept tests from reaching an answer to check."""

    key: str
    """Stable name, also the group's anchor on the page."""
    label: str
    """The group's heading."""
    about: str
    """What the tests of the group have in common, in one sentence."""
    starts: str = ""
    """Regex the grader's own wording of this kind starts with; empty when something else
    decides (a field, grader.reports.causes) or for the kind left when nothing matches."""
    per_file: bool = False
    """Whether the problem is a whole file's, so files are named rather than functions."""
    quote: bool = False
    """Whether each student's first message is quoted: it differs from one student to the next."""


KINDS: tuple[ProblemKind, ...] = (
    ProblemKind("grader", "Grader failures", "The grader could not run these tests: not the "
                "students' doing.", r"the grader (failed inside|could not run) this test",
                quote=True),
    ProblemKind("not_graded", "Could not be graded", "Nothing of these submissions could be "
                "graded (a corrupt archive, no usable file).", quote=True),
    ProblemKind("crash", "Crashed", "The code crashed or ended the Python process.",
                r"while running .*\(\), your code (crashed|ended) the Python", quote=True),
    ProblemKind("exception", "Raised an exception", "A call raised an exception other than "
                "NotImplementedError.", r"(\w+|an exception) while calling ", quote=True),
    ProblemKind("syntax", "Syntax errors", "A file could not be read as Python.",
                per_file=True, quote=True),
    ProblemKind("import", "Failed on import", "Importing a file raised an exception.",
                per_file=True, quote=True),
    ProblemKind("memory", "Memory limit", "A call used more memory than the limit allows.",
                r"(your )?\S+\(\) (used more than .* of memory|ran out of memory)"),
    ProblemKind("timeout", "Timed out", "A call timed out or used up its CPU time, or the "
                "submission's whole time budget ran out.", r"while running .*\(\), your code "
                "used up its CPU time"),
    ProblemKind("wrong_return", "Wrong return type", "A function returned something that is not "
                "a NumPy array or a number.", r"(returned .*not a NumPy array or a number"
                r"|returned a value that could not be read"
                r"|returned a NumPy array of dtype object .*not a number"
                r"|returned .*, more than an answer may hold"
                r"|your .*\(\) (returned|sent back) something unreadable)", quote=True),
    ProblemKind("missing_function", "Missing functions", "A file lacks a function the exercise "
                "asks for.", r"\S+\.py defines no function "),
    ProblemKind("missing_file", "Missing files", "A file the exercise asks for was not "
                "handed in.", per_file=True),
    ProblemKind("not_implemented", "Not implemented", "A function still raises "
                "NotImplementedError, as the stub does.", r"\S+\(\) is not implemented yet"),
    ProblemKind("other", "Other errors", "Anything else that stopped a test before its answer "
                "could be checked.", quote=True),
)
_KIND = {k.key: k for k in KINDS}
_WORDED = tuple((k, re.compile(k.starts)) for k in KINDS if k.starts)
_FILE_CAUSES = {"syntax": "syntax", "import": "import", "missing": "missing_file"}
"""The kind of each cause that stops a whole file, as grader.reports.causes reads them."""


def problem_kind(test: TestOutcome) -> ProblemKind | None:
    """What kept `test` from an answer to check; None when it got one, right or wrong.

    The outcome decides timeouts. Other errors are told apart by the grader's own wording: a
    whole file's cause as the feedback pages read it, else a pattern matched from the message's
    start, where nothing a student writes can pass for it (an exception's name is one word).
    Both come before the detected pitfall: a stub with a syntax error near its
    `raise NotImplementedError` is a syntax error, not an unfinished stub.
    """
    if test.outcome in ("passed", "failed"):
        return None
    if test.outcome == "timeout":
        return _KIND["timeout"]
    cause = blocking_cause(test.message)
    if cause is not None:
        return _KIND[_FILE_CAUSES[cause.kind]]
    found = next((kind for kind, regex in _WORDED if regex.match(test.message)), None)
    if found is None and test.pitfall == "not_implemented":
        return _KIND["not_implemented"]
    return found or _KIND["other"]


@dataclass(frozen=True)
class Affected:
    """One student in a problem group."""

    student: StudentLink
    """Who."""
    where: str
    """The functions (or files) concerned, e.g. 'mse(), huber()'."""
    tests: int
    """How many of their tests the problem stopped."""
    detail: str
    """Their first message of this kind, cut short; empty when the kind reads the same for all."""


@dataclass(frozen=True)
class ProblemGroup:
    """The students who ran into one kind of problem."""

    kind: ProblemKind
    """Which kind."""
    students: tuple[Affected, ...]
    """Each affected student, by id."""
    tests: int
    """Tests stopped, over all of them."""


def _affected(kind: ProblemKind, sid: str, tests: Sequence[TestOutcome]) -> Affected:
    names = (f"{t.exercise}.py" if kind.per_file or not t.function else f"{t.function}()"
             for t in tests)
    return Affected(StudentLink(safe_text(sid), student_href(sid)),
                    safe_text(", ".join(dict.fromkeys(names))), len(tests),
                    clip(tests[0].message, DETAIL_CHARS) if kind.quote else "")


def problem_groups(subs: Sequence[SubmissionResult]) -> tuple[ProblemGroup, ...]:
    """Every kind of problem found, in KINDS order, with the students it stopped (by id)."""
    ordered = sorted(subs, key=lambda s: s.id)
    found: dict[str, dict[str, list[TestOutcome]]] = {}
    for s in ordered:
        for t in s.tests:
            kind = problem_kind(t)
            if kind is not None:
                found.setdefault(kind.key, {}).setdefault(s.id, []).append(t)
    not_graded = tuple(Affected(StudentLink(safe_text(s.id), student_href(s.id)), "", 0,
                                clip(s.error or "", DETAIL_CHARS))
                       for s in ordered if s.status == "error")
    groups = []
    for kind in KINDS:
        who = not_graded if kind.key == "not_graded" else tuple(
            _affected(kind, sid, tests) for sid, tests in found.get(kind.key, {}).items())
        if who:
            groups.append(ProblemGroup(kind, who, sum(a.tests for a in who)))
    return tuple(groups)


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
    students: tuple[StudentRow, ...]
    """Every submission, by id."""
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
    """Pass rate of each test among the submissions it ran for, hardest first (ties in handout
    order)."""
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
    ids.sort(key=lambda i: counts[i][0] / counts[i][1])  # stable: ties keep handout order
    return tuple(TestStat(first[i].exercise, safe_text(first[i].name), function_label(first[i]),
                          first[i].visibility == "hidden", counts[i][0], counts[i][1],
                          rate(counts[i][0], counts[i][1])) for i in ids)


def misconception_stats(subs: Sequence[SubmissionResult]) -> tuple[MisconceptionStat, ...]:
    """How many students failed at least one test with each pitfall, most common first."""
    students: dict[str, dict[str, None]] = {}
    sentence: dict[str, str] = {}
    functions: dict[str, dict[str, None]] = {}
    for s in sorted(subs, key=lambda s: s.id):
        for t in s.tests:
            key = t.pitfall or t.misconception
            if t.outcome == "passed" or not key:
                continue
            students.setdefault(key, {})[s.id] = None
            if t.misconception and not sentence.get(key):
                sentence[key] = safe_text(t.misconception)
            functions.setdefault(key, {})[function_label(t)] = None
    keys = sorted(students, key=lambda k: (-len(students[k]), k))[:TOP_MISCONCEPTIONS]
    graded = sum(s.status != "error" for s in subs)
    return tuple(MisconceptionStat(
        sentence.get(k) or safe_text(k), tuple(functions[k]), len(students[k]),
        rate(len(students[k]), graded),
        tuple(StudentLink(safe_text(i), student_href(i)) for i in students[k])) for k in keys)


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


def _breakable(name: str) -> Markup:
    """An exercise name that may wrap after each underscore, so narrow columns stay narrow."""
    return Markup("_<wbr>").join(safe_text(name).split("_"))


def index_page(run: GradeRun) -> IndexPage:
    subs = sorted(run.submissions, key=lambda s: s.id)
    names = exercise_order(_all_tests(subs))
    grouped = [by_exercise(s.tests) for s in subs]
    problems = problem_groups(subs)
    return IndexPage(
        stats=class_stats(subs),
        histogram=svg.histogram(_percents(subs), 100.0, unit="percent"),
        exercise_names=names, exercise_heads=tuple(map(_breakable, names)),
        exercises=exercise_stats(subs, grouped), tests=test_stats(subs),
        misconceptions=misconception_stats(subs), problems=problems,
        troubled=len({a.student.student_id for g in problems for a in g.students}),
        students=tuple(student_row(s, names, g) for s, g in zip(subs, grouped)),
        footer=run_footer(run))
