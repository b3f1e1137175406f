"""Errors that reach the user as one line, never as a traceback."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit codes of the grade command."""

    OK = 0
    """Every submission was graded (whatever the scores)."""
    BELOW_THRESHOLD = 1
    """--fail-under was given and a score fell below it."""
    USAGE_ERROR = 2
    """The command line or its inputs were wrong (nothing was graded), or an output could not
    be written (the message names it)."""
    ISOLATION_REFUSED = 3
    """The host cannot isolate student code as well as asked (--isolation-minimum); nothing
    was graded and the message says how to enable what is missing."""
    CLUSTER_FAILED = 4
    """A package of the class failed for good on the Dask cluster (the message says which and
    why); the packages that finished keep their parts, so the same command resumes."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (SIGINT) before the run finished."""


class UsageError(Exception):
    """A mistake in how the grader was called (bad folder, bad option); shown as one line."""


class CourseError(UsageError):
    """The course's files contradict each other or the schema; the message names where."""


class ClusterError(Exception):
    """Work sent to a cluster failed for good; shown as one line with its own exit code."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.CLUSTER_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        """What `grade` exits with: the package's own refusal (3) passes through."""
