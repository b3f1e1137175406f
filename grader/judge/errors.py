"""Exceptions the `student` proxy raises when a call into student code does not return a value.

Tests never catch these: the judge plugin turns them into the test's outcome and message.
"""

from __future__ import annotations


class StudentError(Exception):
    """A call into the student's code did not produce a usable value."""

    #: Outcome recorded for the test: 'error' or 'timeout'.
    outcome = "error"

    def __init__(self, kind: str, message: str, function: str | None = None,
                 code: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.function = function
        """The student's function that was called, when known."""
        self.code = code
        """Its code (see grader.judge.diagnosis.function_code): what error patterns read."""


class StudentTimeout(StudentError):
    """The call did not return within the time limit."""

    outcome = "timeout"


class PitfallDetected(AssertionError):
    """A wrong answer whose shape identifies a known misconception (see grader.pitfalls)."""

    def __init__(self, pitfall: str, message: str) -> None:
        super().__init__(message)
        self.pitfall = pitfall
