"""The `student` object tests call: `student.relu(z)` runs relu in the sandbox and returns plain data.

The proxy copies the student's in-place changes back into the caller's arrays, so a test that
checks "the input was not modified" reads the same whether the student's module was imported
directly (a student's laptop) or runs behind the sandbox (grading).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from grader.judge.errors import StudentError, StudentTimeout
from grader.records import CallResult
from grader.sandbox.client import Session


class StudentModule:
    """Module-like view of one exercise module of one submission."""

    def __init__(self, session: Session, module: str, record: Callable[[CallResult], None]) -> None:
        self._session = session
        self._module = module
        self._record = record

    def __getattr__(self, name: str) -> StudentFunction:
        if name.startswith("__"):
            raise AttributeError(name)
        return StudentFunction(self._session, self._module, name, self._record)

    def __repr__(self) -> str:
        return f"<student module {self._module}>"


class StudentFunction:
    """One function of the student's module, callable like the original."""

    def __init__(self, session: Session, module: str, name: str,
                 record: Callable[[CallResult], None]) -> None:
        self.session = session
        self.module = module
        self.name = name
        self.record = record

    def __call__(self, *args: object, **kwargs: object) -> object:
        result = self.session.call(self.module, self.name, args, kwargs)
        self.record(result)
        if not result.ok:
            error = StudentTimeout if result.kind == "timeout" else StudentError
            raise error(result.kind, result.message)
        for original, after in zip(args, result.after):
            _copy_back(original, after)
        return result.value


def _copy_back(original: object, after: object) -> None:
    """Mirror an in-place change the student made to an argument array."""
    if not isinstance(original, np.ndarray) or not isinstance(after, np.ndarray):
        return
    if original.shape != after.shape or not original.flags.writeable:
        return
    if not np.array_equal(original, after, equal_nan=original.dtype.kind in "fc"):
        np.copyto(original, after, casting="unsafe")
