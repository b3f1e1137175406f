"""Where the course material (exercises, reference, suites, templates) lives."""

from __future__ import annotations

import functools
import os
from pathlib import Path


#: Names another course folder (see grader.course); `grade --course DIR` sets it.
COURSE_VARIABLE = "GRADER_COURSE"


def course_root() -> Path:
    """The folder that holds course.toml, exercises/ and reference/.

    The one GRADER_COURSE names, if set; else the bundled course: an installed wheel carries it
    inside the package under _course/; a source checkout (or an editable install) has it at the
    repository's top level.
    """
    chosen = os.environ.get(COURSE_VARIABLE)
    return _resolved(chosen) if chosen else bundled_root()


@functools.cache
def _resolved(folder: str) -> Path:
    # Cached: discovery asks for the course thousands of times in a large class.
    return Path(folder).resolve()


@functools.cache
def bundled_root() -> Path:
    """Where the package keeps what it ships beside the code: the bundled course, and the
    templates and schemas every course's pages use."""
    packaged = Path(__file__).resolve().parent / "_course"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def exercises_dir() -> Path:
    """Student handout material: one folder per exercise with stub, README and visible tests."""
    return course_root() / "exercises"


def reference_dir() -> Path:
    """Reference solutions and the hidden suites; never copied into a handout."""
    return course_root() / "reference"


def suites_dir() -> Path:
    """The hidden pytest suites."""
    return reference_dir() / "suites"


def templates_dir() -> Path:
    """Jinja2 templates for the feedback pages: the engine's, whatever the course."""
    return bundled_root() / "templates"
