"""Failures that stop a whole file, read back from the messages the sandbox words.

A syntax error, top-level code that raises, or a missing file fails every test that needs the
file, each test with the same message. The reports say such a cause once, so they must recognise
it in TestOutcome.message; the patterns below follow the sandbox's wording (grader.sandbox.child
and grader.sandbox.answers):

    SyntaxError in losses.py line 3: '(' was never closed\\n    return np.mean(e ** 2
    SyntaxError in lesson.ipynb cell 4, line 2: invalid syntax\\n    <line>
    NameError while importing losses.py (losses.py line 5: x = y + 1): name 'y' ...
    concepts.py was not found in your submission

Such messages say nothing about a test's inputs (a file is read before any call), so they may be
shown for hidden tests too.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

CauseKind = Literal["syntax", "import", "missing"]

MAX_CAUSE_CHARS = 2000
"""Longer messages are not parsed: the sandbox's own wording of these causes is short."""
MAX_CARET_CODE = 400
"""Longer lines get no caret: finding the column means parsing the line again."""

_MISSING = re.compile(r"(?P<file>[\w.-]+\.py) was not found in your submission")
_SYNTAX = re.compile(
    r"SyntaxError in (?P<where>[^\n]*?(?: line (?:\d+|None))?): (?P<error>[^\n]*)"
    r"(?:\n {4}(?P<code>[^\n]*))?\n?")
_IMPORT = re.compile(
    r"(?P<exc>an exception|[A-Za-z_][\w.]*) while importing (?P<file>[\w.-]+\.py)"
    r"(?: \((?P<where>[^():\n]*): (?P<code>[^\n]*?)\))?(?:: (?P<error>.*))?", re.S)
_FILE = re.compile(r"(?P<file>.+?\.(?:py|ipynb))(?= line | cell |\Z)")


@dataclass(frozen=True)
class Cause:
    """What one test's message says stopped a whole file."""

    kind: CauseKind
    """syntax (Python could not read the file), import (its top-level code raised) or missing."""
    file: str
    """The file to fix, as the student named it: 'losses.py', 'lesson.ipynb'."""
    where: str
    """Where Python stopped: 'losses.py line 8', 'lesson.ipynb cell 4, line 2'; or ''."""
    error: str
    """What went wrong there: "'(' was never closed", "NameError: name 'y' is not defined"."""
    code: str
    """The line Python stopped at, without its indentation; '' when not given."""


@lru_cache(maxsize=256)
def blocking_cause(message: str) -> Cause | None:
    """The cause a test's message names when it stopped a whole file, else None."""
    if len(message) > MAX_CAUSE_CHARS:
        return None
    missing = _MISSING.fullmatch(message)
    if missing:
        return Cause("missing", missing["file"], "", "", "")
    syntax = _SYNTAX.fullmatch(message)
    if syntax:
        where = syntax["where"]
        found = _FILE.match(where)
        return Cause("syntax", found["file"] if found else where, where, syntax["error"],
                     syntax["code"] or "")
    imported = _IMPORT.fullmatch(message)
    if imported:
        error = f"{imported['exc']}: {imported['error']}" if imported["error"] else imported["exc"]
        where = imported["where"] or ""
        # The line that raised may be in another file (one the module imports), or a notebook.
        found = _FILE.match(where)
        return Cause("import", found["file"] if found else imported["file"], where, error,
                     imported["code"] or "")
    return None


def caret_column(cause: Cause) -> int | None:
    """The column (0-based, in cause.code) of a syntax error, when the line alone shows it.

    The sandbox gives the line but not the column. Parsing that line on its own finds the same
    error at the same place for the common slips ("'(' was never closed", "unmatched ')'", a
    missing comma); the column is trusted only when Python's message is the very same.
    """
    code = cause.code
    if cause.kind != "syntax" or not code or len(code) > MAX_CARET_CODE:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. an invalid escape: not the student's error
            ast.parse(code)  # parsing only: nothing of the student's line runs
    except SyntaxError as again:
        same = again.msg == cause.error and again.lineno == 1
        offset = again.offset or 0
        return offset - 1 if same and 0 < offset <= len(code) + 1 else None
    except (ValueError, RecursionError, MemoryError):
        return None
    return None
