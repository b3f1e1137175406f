"""The course being graded: a folder the engine loads, never a table in the engine.

A course folder holds `course.toml` (title and exercise order), `exercises/` (what students get:
one folder per exercise with its stub, README, public tests and pitfalls) and `reference/` (the
reference modules and hidden suites). The bundled course is the one the package ships; `grade
--course DIR` (or the GRADER_COURSE environment variable) selects another (see grader.paths).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import paths
from grader.errors import CourseError

FILE_NAME = "course.toml"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Course:
    """What course.toml says, checked against the folder."""

    root: Path
    """The course folder."""
    title: str
    """Shown at the top of every page, e.g. 'Loss functions in NumPy'."""
    product: str
    """The grader's name in the pages' footer ("Graded by ...")."""
    exercises: tuple[str, ...]
    """Exercise names (module stems), in the order students meet them."""


def current() -> Course:
    """The course in use (see grader.paths.course_root)."""
    return load(paths.course_root())


def suite_files(exercises: tuple[str, ...], visible_only: bool = False) -> tuple[str, ...]:
    """Public tests from exercises/ and hidden suites from reference/suites, for these
    exercises of the course in use."""
    found: list[str] = []
    for exercise in exercises:
        visible = sorted((paths.exercises_dir() / exercise).glob("test_*.py"))
        hidden = [] if visible_only else sorted(paths.suites_dir().glob(f"test_{exercise}.py"))
        found.extend(str(p) for p in [*visible, *hidden])
    return tuple(found)


def exercises() -> tuple[str, ...]:
    """The exercises of the course in use, in order."""
    return current().exercises


def read_toml(path: Path) -> dict[str, Any]:
    """A course file's TOML; CourseError naming the file when it cannot be read as TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{path}: cannot read it as TOML ({exc})") from None


@functools.cache
def load(root: Path) -> Course:
    """Read and check `root`/course.toml; CourseError naming the file and what is wrong."""
    path = root / FILE_NAME
    if not path.is_file():
        raise CourseError(f"{root} is not a course folder: it has no {FILE_NAME}")
    data = read_toml(path)
    table = data.get("course")
    if not isinstance(table, dict) or not isinstance(table.get("title"), str):
        raise CourseError(f"{path}: needs a [course] table with a title")
    product = table.get("product", "grade")
    if not isinstance(product, str):
        raise CourseError(f"{path}: [course] product must be a string")
    names = table.get("exercises")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise CourseError(f"{path}: [course] exercises must be a list of exercise names")
    for name in names:
        if not _NAME.fullmatch(name):
            raise CourseError(f"{path}: exercise '{name}' is not a module name")
        if not (root / "exercises" / name).is_dir():
            raise CourseError(f"{path}: exercise '{name}' has no folder exercises/{name}")
    if len(set(names)) != len(names):
        raise CourseError(f"{path}: an exercise is listed twice")
    return Course(root, table["title"], product, tuple(names))
