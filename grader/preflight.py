"""Everything of the course grading reads, loaded and checked before grading starts, so that a
mistake in it is one line naming the file rather than every submission failing."""

from __future__ import annotations

from pathlib import Path

from grader import course, exercise_spec, paths, pitfalls
from grader.handout import SHARED_FOLDER


def verify() -> None:
    """course.toml, the pitfalls (and every id the suites, public tests and shared code use),
    each exercise.toml: CourseError for the first thing wrong."""
    taught = course.current()
    sources = [Path(p) for p in course.suite_files(taught.exercises)]
    sources += sorted((paths.exercises_dir() / SHARED_FOLDER).glob("*.py"))
    pitfalls.verify(paths.exercises_dir(), sources)
    exercise_spec.specs()
