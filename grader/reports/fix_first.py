""""What to fix first": a file that stopped everything comes first, then functions by points lost.

A syntax error, a failing import or a missing file fails every test that needs the file with the
same message. Said once per function (or per test) the cause is buried under identical items;
said once per file, at the top, with the line Python stopped at, it is what a student fixes
first. Every other failing function follows, the one that costs the most points first.

fix_items, one item per failing function in suite order, is also what the CI outputs
(grader.reports.junit, grader.reports.step_summary) say about a function or a single test.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from grader.records import TestOutcome
from grader.reports.causes import Cause, CauseKind, blocking_cause, caret_column
from grader.reports.shared import Shared, outcome_key
from grader.reports.svg_parts import safe_text
from grader.reports.wording import Reveal, clip, dedupe, fmt_points, function_label

SHARED_MESSAGE_CHARS = 20_000
"""A section or fix item made from longer messages than this is not kept: memory stays small."""
SAFE_MESSAGE_ENDINGS = ("was not found in your submission", "(it still raises NotImplementedError)",
                        "across all its calls")
MAX_CODE_CHARS = 300
"""A quoted line of the student's code is cut past this: it only has to be recognisable."""
# Messages that open with a name from the student's code: a sentence must not capitalise it.
_CODE_NAME = re.compile(r"[A-Za-z_][\w.]*(?P<kind>\(\)|\.py\b)")
_RANK: dict[CauseKind, int] = {"syntax": 0, "import": 0, "missing": 1}


@dataclass(frozen=True)
class FixItem:
    """One failing function in "What to fix first"."""

    function: str
    """Which function: 'mse() in losses.py'."""
    sentence: str
    """The misconception in the lesson's words, or which kind of failure it was."""
    hints: tuple[str, ...]
    """The lesson's hints for it, each once."""
    failed: int
    """How many of its tests did not pass."""
    points_lost: str
    """Points those tests cost, as shown."""
    lost: float = 0.0
    """The same as a number: the list is ordered by it."""


@dataclass(frozen=True)
class SourceLine:
    """The line of the student's file Python stopped at, as it reported it."""

    where: str
    """Which file and line: 'losses.py line 8', 'lesson.ipynb cell 4, line 2'."""
    code: str
    """The line without its indentation."""
    caret: str
    """Spaces then '^' under the column Python points at; '' when the column is not known."""


@dataclass(frozen=True)
class Blocker:
    """A file that stopped every test needing it, said once instead of once per test."""

    kind: CauseKind
    """syntax, import or missing."""
    file: str
    """The file to fix: 'losses.py', 'lesson.ipynb'."""
    sentence: str
    """What happened and what follows, in plain words; it never starts with a file name."""
    source: SourceLine | None
    """The line Python stopped at, when known (syntax and import errors)."""
    functions: tuple[str, ...]
    """The functions it kept from being tested: 'mse()', 'huber()'."""
    failed: int
    """How many tests it stopped."""
    hidden: int
    """How many of those are hidden tests."""
    points_lost: str
    """Points those tests cost, as shown."""
    lost: float
    """The same as a number: the list is ordered by it."""


@dataclass(frozen=True)
class FixFirst:
    """The whole "What to fix first" list."""

    blockers: tuple[Blocker, ...]
    """Files that stopped whole sets of tests: syntax and import errors, then missing files."""
    items: tuple[FixItem, ...]
    """Every other failing function, the most points lost first."""


def cause_sentence(cause: Cause) -> str:
    """What a blocking cause did, in words a student can act on."""
    if cause.kind == "missing":
        return (f"The file {cause.file} was not found in your submission, so none of its tests "
                "could run. Hand it in under exactly that name, next to your other files.")
    if cause.kind == "syntax":
        return (f"Python could not read {cause.file} because of a syntax error: {cause.error}. "
                "Until it is fixed, no test that needs the file can run.")
    return (f"Python stopped while running the top-level code of {cause.file} (the lines outside "
            f"any function), with {cause.error}. Until it is fixed, no test that needs the file "
            "can run.")


def cause_note(cause: Cause) -> str:
    """The cause in a few words, for a plot that has no curve because of it."""
    if cause.kind == "missing":
        return f"the file {cause.file} was not found in your submission."
    return f"Python could not import {cause.file} (see “What to fix first”)."


def source_line(cause: Cause) -> SourceLine | None:
    if not cause.code or not cause.where:
        return None
    code = clip(cause.code, MAX_CODE_CHARS)
    column = caret_column(cause)
    caret = " " * column + "^" if column is not None and column <= len(code) else ""
    return SourceLine(safe_text(cause.where), code, caret)


def blocker(cause: Cause, tests: Sequence[TestOutcome]) -> Blocker:
    """The one item saying that `cause` stopped `tests`."""
    lost = sum(t.max_score - t.score for t in tests)
    functions = dedupe(f"{t.function}()" for t in tests if t.function)
    return Blocker(cause.kind, safe_text(cause.file), clip(cause_sentence(cause), 1000),
                   source_line(cause), functions, len(tests),
                   sum(t.visibility == "hidden" for t in tests), fmt_points(lost), lost)


def section_blocker(tests: Sequence[TestOutcome]) -> Blocker | None:
    """The blocker of an exercise whose failing tests all failed for one blocking cause."""
    failing = [t for t in tests if t.outcome != "passed"]
    causes = {blocking_cause(t.message) for t in failing}
    if len(causes) != 1:
        return None
    cause = causes.pop()
    return blocker(cause, failing) if cause is not None else None


def fix_first(tests: Sequence[TestOutcome], reveal: Reveal) -> FixFirst:
    """Blocking files first, then each other failing function, the most points lost first."""
    stopped: dict[Cause, list[TestOutcome]] = {}
    rest: list[TestOutcome] = []
    for t in tests:
        if t.outcome == "passed":
            continue
        cause = blocking_cause(t.message)
        if cause is None:
            rest.append(t)
        else:
            stopped.setdefault(cause, []).append(t)
    blockers = sorted((blocker(c, ts) for c, ts in stopped.items()),
                      key=lambda b: (_RANK[b.kind], -b.lost))
    # sorted() is stable: functions that cost the same stay in the handout's order.
    return FixFirst(tuple(blockers), tuple(sorted(fix_items(rest, reveal), key=lambda f: -f.lost)))


def message_sentence(message: str) -> str:
    """A message as a sentence; one that opens with a name from the student's code is led in
    rather than capitalised ('The file concepts.py …', never 'Concepts.py …')."""
    named = _CODE_NAME.match(message)
    if named:
        lead = "The file " if named["kind"] == ".py" else "The function "
        return f"{lead}{message}."
    return message[:1].upper() + message[1:] + "."


def _generic_sentence(tests: Sequence[TestOutcome], shown: bool) -> str:
    """Used when no known pitfall was recognised: say what kind of failure it was."""
    outcomes = {t.outcome for t in tests}
    # Messages about the submission's files say nothing about hidden inputs: always safe to show.
    for test in tests:
        cause = blocking_cause(test.message)
        if cause is not None:
            return cause_sentence(cause)
        if test.message.endswith(SAFE_MESSAGE_ENDINGS):
            return message_sentence(test.message)
    where = ("the message under the test below says what happened" if shown else
             "only hidden tests caught it, so check the function against the lesson's formula, "
             "including very large, very negative and zero inputs")
    if "timeout" in outcomes:
        return ("It ran out of time: look for a loop that never ends, or one that works through "
                f"the array one element at a time; {where}.")
    if "error" in outcomes:
        return f"It raised an error or stopped before returning a value; {where}."
    return f"It returned values that differ from the reference; {where}."


def fix_items(tests: Sequence[TestOutcome], reveal: Reveal) -> tuple[FixItem, ...]:
    """One item per failing function, in suite order."""
    groups: dict[str, list[TestOutcome]] = {}
    for t in tests:
        if t.outcome != "passed":
            groups.setdefault(function_label(t), []).append(t)
    return tuple(_FIXES.get((reveal, tuple(map(outcome_key, failing))),
                            partial(_fix_item, label, failing, reveal),
                            sum(len(t.message) for t in failing) <= SHARED_MESSAGE_CHARS)
                 for label, failing in groups.items())


_FIXES: Shared[FixItem] = Shared(512)


def _fix_item(label: str, failing: Sequence[TestOutcome], reveal: Reveal) -> FixItem:
    shown = any(t.visibility != "hidden" or reveal == "all" for t in failing)
    sentence = " ".join(dedupe(t.misconception for t in failing))
    lost = sum(t.max_score - t.score for t in failing)
    return FixItem(label, sentence or _generic_sentence(failing, shown),
                   dedupe(h for t in failing for h in t.hints), len(failing),
                   fmt_points(lost), lost)
