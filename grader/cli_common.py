"""What the commands of `grade` share: the grading options, and running work so that a user's
mistake ends in one line and an exit code, never a traceback. Part of the command line: only the
cli modules know about click."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Callable, TypeVar

import click

from grader import check, course, paths
from grader.engine import GradeOptions
from grader.errors import ClusterError, ExitCode, UsageError
from grader.sandbox import host

T = TypeVar("T")


def parse_memory(text: str) -> int:
    """'1G', '512M', '1.5GiB' or a byte count -> bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", text.lower())
    if not match:
        raise UsageError(f"--memory: cannot read {text!r}; use a size like 512M or 1G")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[match.group(2)]
    size = int(float(match.group(1)) * scale)
    if size < 64 << 20:
        raise UsageError("--memory: at least 64M is needed to start Python and NumPy")
    return size


def use_course(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """--course: later steps (and the judges) read the course from the environment."""
    if value is not None:
        os.environ[paths.COURSE_VARIABLE] = str(value.resolve())


def chosen_exercises(chosen: tuple[str, ...]) -> tuple[str, ...]:
    """--exercise values checked against the course in use (all of them when none is given)."""
    known = course.exercises()
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise UsageError(f"--exercise {unknown[0]}: the course has no such exercise "
                         f"(it has {', '.join(known)})")
    return tuple(chosen) or known


# Options shared by the commands that grade.
course_option = click.option(
    "--course", type=click.Path(path_type=Path, file_okay=False), callback=use_course,
    expose_value=False, is_eager=True,
    help=f"The course folder to grade (course.toml, exercises/, reference/); default: the "
         f"bundled course, or ${paths.COURSE_VARIABLE}.")
exercise_option = click.option("--exercise", "exercises", multiple=True,
                               help="Grade only this exercise (repeatable).")
seed_option = click.option("--seed", type=int, default=GradeOptions.seed, show_default=True,
                           help="Seed for random test inputs.")
timeout_option = click.option("--timeout", type=click.FloatRange(0.1, 600), default=2.0,
                              show_default=True,
                              help="Seconds each call into student code may take.")
submission_timeout_option = click.option(
    "--submission-timeout", type=click.FloatRange(1, 3600), default=GradeOptions.submission_timeout,
    show_default=True,
    help="Seconds all the calls of one submission may take together; once spent, its "
         "remaining tests end as timeouts and the class goes on.")
isolation_option = click.option(
    "--isolation-minimum", "isolation_minimum", type=click.Choice(host.LEVELS),
    default=host.DEFAULT_MINIMUM, show_default=True,
    help="Refuse to grade (exit 3) where the host cannot isolate student code this well: "
         "full = own file system view, process and network namespaces; files = none of the "
         "host's files visible; limits = resource limits only.")


def require_isolation(minimum: str) -> None:
    """Stop before anything is graded where student code would be less isolated than asked."""
    if check.needs_portable():
        return  # refused with its own message when grading starts
    host.require(host.probe(), minimum)


def guarded(work: Callable[[], T]) -> T:
    """work(), with every error meant for the user printed as one line and its exit code."""
    try:
        return work()
    except ClusterError as exc:
        click.echo(f"grade: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (UsageError, host.IsolationRefused) as exc:
        click.echo(f"grade: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE_ERROR if isinstance(exc, UsageError)
                 else ExitCode.ISOLATION_REFUSED)
    except KeyboardInterrupt:
        # Outputs are written atomically, results.json last: whatever is there is a whole run.
        click.echo("grade: interrupted before the run finished", err=True)
        sys.exit(ExitCode.INTERRUPTED)
