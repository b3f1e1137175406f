"""The class summary's problem groups: tests stopped before an answer to check, by kind, with
the students each kind stopped.

Gathered one submission at a time (ProblemTally), keeping a small record per affected student
(shared by the students it describes alike), so a class read back from disk one result at a time
is never held whole; the page's rows are made from the records while it is written (Rows).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grader.records import SubmissionResult, TestOutcome
from grader.rows import Rows as Rows
from grader.reports.causes import blocking_cause
from grader.reports.context import clip, student_href
from grader.reports.shared import Shared
from grader.reports.svg_parts import safe_text

DETAIL_CHARS = 300
"""A quoted message is cut here: the page lists every affected student of a large class."""


@dataclass(frozen=True)
class StudentLink:
    """A student named on the page, linked to their feedback page."""

    student_id: str
    """The id as shown."""
    href: str
    """Relative link to the student's page."""


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
    students: Sequence[Affected]
    """Each affected student, by id."""
    tests: int
    """Tests stopped, over all of them."""


def student_link(sid: str) -> StudentLink:
    """The student with id sid, as the page names and links them."""
    return StudentLink(safe_text(sid), student_href(sid))


@dataclass(frozen=True, slots=True)
class _Stopped:
    """What one kind of problem did to one student's tests."""

    where: tuple[str, ...]
    """The functions (or files) concerned, in the order met."""
    tests: int
    """How many tests it stopped."""
    detail: str
    """The first message of this kind, cut short (when the kind quotes messages)."""


SHARED_RECORDS = 4096
"""Most distinct records a ProblemTally keeps for reuse (see ProblemTally)."""


class ProblemTally:
    """The problem groups, gathered one submission at a time in any order: groups() says what
    problem_groups says of the same submissions.

    Per affected student only a record is kept, and most students who ran into a kind of
    problem ran into it alike: equal records (and messages) are kept once."""

    def __init__(self) -> None:
        self._found: dict[str, dict[str, _Stopped]] = {}
        self._not_graded: list[tuple[str, str]] = []
        self._records: Shared[_Stopped] = Shared(SHARED_RECORDS)
        self._texts: Shared[str] = Shared(SHARED_RECORDS)

    def add(self, result: SubmissionResult) -> None:
        """Count the problems of one more submission."""
        if result.status == "error":
            error = self._text(clip(result.error or "", DETAIL_CHARS))
            self._not_graded.append((result.id, error))
        for key, stopped in self._stopped(result).items():
            found = self._found.setdefault(key, {})
            earlier = found.get(result.id)
            if earlier is not None:
                # A repeated id adds to the same student's entry, tests in the order they came.
                stopped = _Stopped(tuple(dict.fromkeys(earlier.where + stopped.where)),
                                   earlier.tests + stopped.tests, earlier.detail)
            found[result.id] = self._records.get(stopped, lambda: stopped)

    def _stopped(self, result: SubmissionResult) -> dict[str, _Stopped]:
        """What each kind of problem did to the submission's tests."""
        where: dict[str, dict[str, None]] = {}
        tests: dict[str, int] = {}
        detail: dict[str, str] = {}
        for test in result.tests:
            kind = problem_kind(test)
            if kind is None:
                continue
            if kind.key not in tests:
                tests[kind.key] = 0
                detail[kind.key] = self._text(clip(test.message, DETAIL_CHARS)) \
                    if kind.quote else ""
            tests[kind.key] += 1
            name = f"{test.exercise}.py" if kind.per_file or not test.function \
                else f"{test.function}()"
            where.setdefault(kind.key, {})[name] = None
        return {key: _Stopped(tuple(where[key]), tests[key], detail[key]) for key in tests}

    def _text(self, text: str) -> str:
        return self._texts.get(text, lambda: text)

    def groups(self) -> tuple[ProblemGroup, ...]:
        """Every kind of problem found, in KINDS order, with the students it stopped (by id)."""
        groups = []
        for kind in KINDS:
            if kind.key == "not_graded":
                # Stable: submissions of one id stay in the order they came.
                who: Sequence[Affected] = Rows(sorted(self._not_graded, key=lambda n: n[0]),
                                               _not_graded)
                tests = 0
            else:
                # A copy: the rows are made later, and the tally may go on counting meanwhile.
                found = dict(self._found.get(kind.key, {}))
                who = Rows(sorted(found), functools.partial(_affected, found))
                tests = sum(s.tests for s in found.values())
            if who:
                groups.append(ProblemGroup(kind, who, tests))
        return tuple(groups)

    def troubled(self) -> int:
        """Submissions in at least one problem group, as the page names them."""
        return len({safe_text(sid) for sid, _ in self._not_graded} |
                   {safe_text(sid) for found in self._found.values() for sid in found})


def _not_graded(record: tuple[str, str]) -> Affected:
    return Affected(student_link(record[0]), "", 0, record[1])


def _affected(found: dict[str, _Stopped], sid: str) -> Affected:
    stopped = found[sid]
    return Affected(student_link(sid), safe_text(", ".join(stopped.where)), stopped.tests,
                    stopped.detail)


def problem_groups(subs: Iterable[SubmissionResult]) -> tuple[ProblemGroup, ...]:
    """Every kind of problem found, in KINDS order, with the students it stopped (by id)."""
    tally = ProblemTally()
    for result in subs:
        tally.add(result)
    return tally.groups()
