"""The course author's commands of `grade`: `new-exercise` and `course check`.

Part of the command line (grader.cli registers them on the `grade` group); it only parses and
prints: the work is grader.scaffold's and grader.course_check's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from grader import course_check, paths, scaffold


Guard = Callable[[Callable[[], Any]], Any]
"""grader.cli's _guarded: runs work, turning a UsageError into one line and exit code 2."""


def register(main: click.Group, guarded: Guard) -> None:
    """Add the course commands to the `grade` group; `guarded` runs work with one-line errors."""

    @main.command("new-exercise")
    @click.argument("name")
    @click.option("--course", "course_dir", type=click.Path(path_type=Path, file_okay=False),
                  default=Path("."), show_default=True,
                  help="The course folder (created, with course.toml, if it is not one yet).")
    @click.option("--function", "functions", multiple=True,
                  help="A function of the exercise (repeatable); default: one named NAME.")
    def new_exercise_command(name: str, course_dir: Path, functions: tuple[str, ...]) -> None:
        """Scaffold exercise NAME in a course folder: stub, README, public tests, pitfalls,
        reference, weighted hidden suite and an example mistake. It grades out of the box."""
        made = guarded(lambda: scaffold.new_exercise(course_dir, name, functions))
        assert isinstance(made, scaffold.Scaffold)
        if made.new_course:
            click.echo(f"made a new course in {course_dir} (course.toml)")
        for path in made.files:
            click.echo(f"wrote {path}")
        click.echo(f"next: write reference/{name}.py and the tests, then "
                   f"`grade course check {course_dir}`")

    @main.group("course")
    def course_group() -> None:
        """Commands for course authors."""

    @course_group.command("check")
    @click.argument("course_dir", required=False, type=click.Path(path_type=Path,
                                                                 file_okay=False))
    @click.option("--jobs", "-j", type=click.IntRange(1, 64), default=2, show_default=True)
    def course_check_command(course_dir: Path | None, jobs: int) -> None:
        """Check a course (default: the one in use): the reference scores full marks, the stubs
        0, each mistake of reference/mistakes/ loses points exactly on its functions and gets
        its pitfall's hint, and the handout holds nothing of the reference. Exits 1 if not."""
        if course_dir is not None:
            os.environ[paths.COURSE_VARIABLE] = str(course_dir.resolve())
        findings = guarded(lambda: course_check.check_course(paths.course_root(), jobs))
        assert isinstance(findings, list)
        for finding in findings:
            click.echo(f"{'ok  ' if finding.ok else 'FAIL'} {finding.text}")
        passed, failed = course_check.summary(findings)
        click.echo(f"{passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)

