"""Where the course material (exercises, reference, suites, templates) lives."""

from __future__ import annotations

from pathlib import Path


def course_root() -> Path:
    """The folder that holds exercises/, reference/ and templates/.

    An installed wheel carries them inside the package under _course/; a source checkout (or an
    editable install) has them at the repository's top level.
    """
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
    """Jinja2 templates for the feedback pages."""
    return course_root() / "templates"
