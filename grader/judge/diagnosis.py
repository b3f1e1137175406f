"""Which misconception a failure shows, read from what the student's code raised or returned.

A course registers what it recognises, and the judge tries it on every failure:
- ErrorPatterns (recognise_errors): part of an error's text, optionally only for one function
  and only when the student's code shows a construct (`code`, a regular expression), so that a
  hint naming `math.exp` is only given to code that calls math.exp;
- answer detectors (recognise_answers): Detectors tried on any wrong answer of one function's
  tests that carries its values, whichever test it came from.

A failure nothing recognises gets no pitfall: the feedback then says what was observed (see
grader.judge.observations), never the misconception a test was written for.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader.sandbox.standins import compiler_lines

if TYPE_CHECKING:  # the comparison helpers import this module: no cycle at run time
    from grader.judge.checks import Detector


@dataclass(frozen=True)
class ErrorPattern:
    """Recognises one misconception from the error student code raised."""

    text: str
    """Part of the error's text, e.g. 'truth value of an array ... is ambiguous'."""
    pitfall: str
    """The pitfall it points to."""
    function: str | None = None
    """Only for errors raised by this function; None for any."""
    code: str = ""
    """A regular expression the student's code must match (the function's own code, the
    module's imports and the line quoted in the error); empty for any code."""


@dataclass(frozen=True)
class Finding:
    """A misconception recognised in a wrong answer, and the sentence that says what was seen."""

    pitfall: str
    """The pitfall recognised."""
    sentence: str
    """What the detector saw, in the student's terms."""


# The patterns and answer detectors of the course being graded, in the order it registered
# them. Kept here because the judge diagnoses failures without knowing which course module holds
# them: the course registers them when its tests import that module.
_ERROR_PATTERNS: list[ErrorPattern] = []
_ANSWER_DETECTORS: dict[str, list[Detector]] = {}


def recognise_errors(*patterns: ErrorPattern) -> None:
    """Have diagnose_error try `patterns`, after those registered before.

    A course calls it in a module its tests import; registering one pattern twice (a module
    imported again) keeps its first place.
    """
    for pattern in patterns:
        if pattern not in _ERROR_PATTERNS:
            _ERROR_PATTERNS.append(pattern)


def recognise_answers(function: str, *detectors: Detector) -> None:
    """Have every wrong answer of `function`'s tests tried with `detectors` (after the ones the
    test itself passed), whichever test the answer came from."""
    known = _ANSWER_DETECTORS.setdefault(function, [])
    known.extend(d for d in detectors if d not in known)


def diagnose_error(message: str, function: str | None = None, kind: str = "",
                   code: str = "") -> str | None:
    """The pitfall an exception raised by student code points to, if it is a known one.

    `message` is the error text (ideally 'TypeError: ...'), `function` the function called,
    `kind` the sandbox's error kind ('not_implemented', 'exception', ...) and `code` the
    student's code (see function_code). A stub's NotImplementedError is the grader's own; every
    other pattern is the course's. Patterns for this very function are tried before the ones
    for any function, each group in the order registered; the first match wins.
    """
    if kind == "not_implemented" or "NotImplementedError" in message:
        return "not_implemented"
    shown = f"{code}\n{message}"
    own = [p for p in _ERROR_PATTERNS if p.function is not None and p.function == function]
    for pattern in own + [p for p in _ERROR_PATTERNS if p.function is None]:
        if pattern.text in message and (not pattern.code or re.search(pattern.code, shown)):
            return pattern.pitfall
    return None


def diagnose_answer(function: str | None, got: object, expected: object,
                    inp: object) -> Finding | None:
    """The first answer detector of `function` that recognises this wrong answer, if any."""
    # Imported here: checks imports this module, and detectors run with its helpers.
    from grader.judge.checks import run_detector

    for detector in _ANSWER_DETECTORS.get(function or "", ()):
        sentence = run_detector(detector, got, expected, inp)
        if sentence:
            return Finding(detector.pitfall, sentence)
    return None


@functools.lru_cache(maxsize=256)
def function_code(source: str, function: str) -> str:
    """The code of `function` in module `source`, after the module's imports: what an
    ErrorPattern's `code` is matched against. The whole source when no such def is found."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source
    lines = compiler_lines(source)
    imports: list[str] = []
    found = ""
    for node in tree.body:
        segment = "\n".join(line.rstrip("\r\n")
                            for line in lines[node.lineno - 1:node.end_lineno or node.lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(segment)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            found = segment  # a later def replaces an earlier one, as in Python
    return "\n".join([*imports, found]) if found else source
