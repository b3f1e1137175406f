"""The course's pitfalls: misconceptions its tests and detectors recognise, kept as data.

A course keeps them in TOML files beside its exercises: `exercises/pitfalls.toml` for the ones
several exercises share, `exercises/<exercise>/pitfalls.toml` for the rest. Each entry is a
table named by the pitfall's id, with the sentence a student sees and the hint that fixes it:

    [forgot_mean]
    misconception = "The mean squared error averages the squares; a sum grows with the batch."
    hint = "Use np.mean(errors ** 2, axis=-1), not np.sum."

A test names the pitfall it is designed to catch in its `grade` marker (`pitfall="forgot_mean"`), and a
detector that recognises it in a wrong answer raises `PitfallDetected("forgot_mean", ...)`. Both are
checked against the catalogue when the course loads (`verify`): an id the course does not define
is an error naming the file, the line and the id, never a hint that silently goes missing.

Where the course can recognise a pitfall (`checked`: a detector or an error pattern names it),
only a recognition in the failure itself names it: a marker alone is no evidence that a student
made the mistake its test was written for.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from grader import paths
from grader.course import read_toml
from grader.errors import CourseError

FILE_NAME = "pitfalls.toml"
#: Pitfalls the engine's own checks report (a stub, a single number or a wrong shape where an
#: array is due, an argument changed in place): every course defines them, in its own words.
ENGINE_PITFALLS = ("not_implemented", "returns_scalar", "wrong_shape", "modifies_input")
_ID = re.compile(r"[a-z][a-z0-9_]*")
_FIELDS = ("misconception", "hint")


@dataclass(frozen=True)
class Pitfall:
    """One known misconception."""

    id: str
    """Stable identifier used in markers, exceptions and results.json."""
    misconception: str
    """One sentence naming the misconception in the lesson's words."""
    hint: str
    """What to change, as the professor would put it."""


def catalogue_files(exercises: Path) -> list[Path]:
    """The course-wide file first, then each exercise's, in name order."""
    found = [exercises / FILE_NAME] if (exercises / FILE_NAME).is_file() else []
    return found + sorted(p for p in exercises.glob(f"*/{FILE_NAME}") if p.is_file())


@functools.cache
def catalogue(exercises: Path | None = None) -> dict[str, Pitfall]:
    """Every pitfall of the course whose exercises live in `exercises` (the course in use by
    default), by id; CourseError if a file breaks the schema or two files define one id."""
    folder = exercises if exercises is not None else paths.exercises_dir()
    found: dict[str, Pitfall] = {}
    where: dict[str, Path] = {}
    for path in catalogue_files(folder):
        for pitfall in _read(path):
            if pitfall.id in found:
                raise CourseError(f"{path}: pitfall '{pitfall.id}' is defined twice "
                                  f"(also in {where[pitfall.id]})")
            found[pitfall.id], where[pitfall.id] = pitfall, path
    return found


def lookup(pitfall_id: str) -> Pitfall | None:
    """The entry for `pitfall_id` in the course in use, or None for an unknown id."""
    return catalogue().get(pitfall_id)


def _read(path: Path) -> Iterator[Pitfall]:
    data = read_toml(path)
    for pitfall_id, entry in data.items():
        if not _ID.fullmatch(pitfall_id):
            raise CourseError(f"{path}: '{pitfall_id}' is not a pitfall id (lower case letters, "
                              "digits and _)")
        if not isinstance(entry, dict) or sorted(entry) != sorted(_FIELDS) or not all(
                isinstance(entry[f], str) and entry[f].strip() for f in _FIELDS):
            raise CourseError(f"{path}: pitfall '{pitfall_id}' needs exactly a non-empty "
                              "misconception and hint (strings)")
        yield Pitfall(pitfall_id, entry["misconception"], entry["hint"])


def verify(exercises: Path, sources: Iterable[Path]) -> None:
    """CourseError naming file, line and id for the first pitfall that `sources` (suites,
    public tests, detectors) refer to and the catalogue does not define, or for an engine
    pitfall (ENGINE_PITFALLS) the catalogue lacks."""
    known = catalogue(exercises)
    for pitfall_id in ENGINE_PITFALLS:
        if pitfall_id not in known:
            raise CourseError(f"{exercises / FILE_NAME}: the course must define pitfall "
                              f"'{pitfall_id}', which the grader's own checks report")
    for source in sources:
        for line, pitfall_id in references(source):
            if pitfall_id not in known:
                raise CourseError(f"{source}:{line}: pitfall '{pitfall_id}' is not defined in "
                                  f"any {FILE_NAME} of the course ({exercises})")


def references(source: Path, markers: bool = True) -> Iterator[tuple[int, str]]:
    """(line, id) of each pitfall a Python file names: `pitfall="id"` keywords (detectors,
    error patterns, helpers and, unless `markers` is False, tests' `grade` markers) and
    `PitfallDetected("id", ...)` raises."""
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        raise CourseError(f"{source}: cannot be read ({exc})") from None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        named = node.func.id if isinstance(node.func, ast.Name) else (
            node.func.attr if isinstance(node.func, ast.Attribute) else "")
        for keyword in node.keywords:
            if (keyword.arg == "pitfall" and _is_text(keyword.value)
                    and (markers or named != "grade")):
                yield node.lineno, keyword.value.value  # type: ignore[attr-defined]
        if named == "PitfallDetected" and node.args and _is_text(node.args[0]):
            yield node.lineno, node.args[0].value  # type: ignore[attr-defined]


def checked(exercises: Path | None = None) -> frozenset[str]:
    """The pitfalls the course (whose exercises live in `exercises`, the course in use by
    default) can recognise in a failure: the grader's own, and every id its code names outside
    a test's `grade` marker (detectors, error patterns, helpers that raise one).

    A test's marker names the misconception the test was written for; for a pitfall in this
    set, only a recognition of it in the failure itself may name it (see grader.results).
    """
    return _checked(exercises if exercises is not None else paths.exercises_dir())


@functools.cache
def _checked(folder: Path) -> frozenset[str]:
    found = set(ENGINE_PITFALLS)
    for source in [*sorted(folder.glob("*/*.py")),
                   *sorted(folder.parent.glob("reference/suites/*.py"))]:
        try:
            found.update(pitfall_id for _, pitfall_id in references(source, markers=False))
        except CourseError:
            continue  # preflight reports a file that cannot be read; here it names nothing
    return frozenset(found)


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)
