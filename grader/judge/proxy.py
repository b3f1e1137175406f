"""The `student` object tests call: `student.mse(e)` runs mse in the sandbox and returns plain data.

The proxy copies the student's in-place changes back into the caller's arrays, so a test that
checks "the input was not modified" reads the same whether the student's module was imported
directly (a student's laptop) or runs behind the sandbox (grading). It keeps each array so
changed as it was passed, and the comparison helpers show an input from there (as_passed): a
failure message names what the function was given, not what it left behind.

Answers may have been fetched ahead, several calls in one round trip (see grader.judge.plan):
a call whose function and argument values match an answer fetched ahead takes that answer, any
other call goes to the sandbox. Matching is by value, so a test reads exactly as if every call
had been made on its own.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Hashable

import numpy as np

from grader.judge.diagnosis import function_code
from grader.judge.errors import StudentError, StudentTimeout
from grader.records import CallResult
from grader.sandbox.answers import Batch, MapRequest, map_request, missing_module
from grader.sandbox.session import Session
from grader.sandbox.protocol import UnsupportedValue

Call = tuple[str, tuple[object, ...], dict[str, object]]
"""A call of the student's module: function name, positional and keyword arguments."""


@dataclass(frozen=True)
class Planned:
    """The calls of one function fetched ahead: keyed and encoded once, then asked of every
    submission."""

    positions: dict[Hashable, tuple[int, ...]]
    """Where each call (by key(), see there) sits in the request, in order: shared by every
    submission's answers, which keep only how many of each they handed out."""
    request: MapRequest
    """The calls, encoded."""


Grouped = dict[str, Planned]
"""Planned calls by function name: what Answers.fetch asks a submission."""


def grouped(module: str, calls: list[Call]) -> Grouped:
    """The calls into `module` by function, keyed and encoded once.

    A function whose calls cannot travel as plain data is left out: its calls are made (and
    fail) one by one, as the test makes them.
    """
    by_function: dict[str, list[tuple[tuple[object, ...], dict[str, object]]]] = {}
    for function, args, kwargs in calls:
        by_function.setdefault(function, []).append((args, kwargs))
    found: Grouped = {}
    for function, group in by_function.items():
        try:
            request = map_request(module, function, group)
        except (UnsupportedValue, ValueError):
            continue
        positions: dict[Hashable, list[int]] = {}
        for n, (args, kwargs) in enumerate(group):
            positions.setdefault(key(function, args, kwargs), []).append(n)
        found[function] = Planned({k: tuple(v) for k, v in positions.items()}, request)
    return found


class Answers:
    """Answers fetched ahead for one module of one submission, keyed by the call's values."""

    def __init__(self, missing: CallResult | None = None) -> None:
        self._batches: dict[str, tuple[Planned, Batch]] = {}
        self._taken: dict[Hashable, int] = {}
        self._missing = missing
        self.digest: bytes | None = None if missing is None else b"missing:" + missing.message.encode()
        """Fingerprint of every answer fetched, once each planned call got one; else None."""
        self.live = 0
        """Calls that found no answer here and went to the sandbox."""

    @classmethod
    def for_missing(cls, module: str) -> Answers:
        """Answers of a submission without `module`: every call is answered 'not found'.

        Known without a sandbox, and the same for every such submission, so a test's verdict
        on one of them is reused for the others.
        """
        return cls(missing_module(module))

    def fetch(self, session: Session, module: str, planned: Grouped) -> None:
        """Make the planned calls into `module` (see Session.fetch_many); keep the answers."""
        self.keep(planned, session.fetch_many([group.request for group in planned.values()]))

    def keep(self, planned: Grouped, batches: list[Batch | None]) -> None:
        """Keep the answers fetched for `planned` (None: a function whose batch gave none)."""
        digest = hashlib.blake2b(digest_size=16)
        complete = True
        for (function, group), batch in zip(planned.items(), batches):
            if batch is None:
                complete = False
                continue
            digest.update(function.encode() + b"\0" + batch.fingerprint)
            self._batches[function] = (group, batch)
        self.digest = digest.digest() if complete else None

    def take(self, function: str, args: tuple[object, ...],
             kwargs: dict[str, object]) -> CallResult | None:
        """The next answer fetched for exactly this call, if any (each is handed out once)."""
        if self._missing is not None:
            return self._missing
        found = self._batches.get(function)
        if found is not None:
            call = key(function, args, kwargs)
            positions = found[0].positions.get(call, ())
            taken = self._taken.get(call, 0)
            if taken < len(positions):
                self._taken[call] = taken + 1
                return found[1].result(positions[taken])
        self.live += 1
        return None


class StudentModule:
    """Module-like view of one exercise module of one submission."""

    def __init__(self, session: Session, module: str, record: Callable[[CallResult], None],
                 answers: Answers | None = None) -> None:
        self._session = session
        self._module = module
        self._record = record
        self._answers = answers

    def __getattr__(self, name: str) -> StudentFunction:
        if name.startswith("__"):
            raise AttributeError(name)
        return StudentFunction(self._session, self._module, name, self._record, self._answers)

    def __repr__(self) -> str:
        return f"<student module {self._module}>"


class StudentFunction:
    """One function of the student's module, callable like the original."""

    def __init__(self, session: Session, module: str, name: str,
                 record: Callable[[CallResult], None], answers: Answers | None = None) -> None:
        self.session = session
        self.module = module
        self.name = name
        self.record = record
        self.answers = answers

    def __call__(self, *args: object, **kwargs: object) -> object:
        if _PASSED:
            # This call is given these arrays as they are now: an earlier call's record of
            # them no longer says what the function under test was given.
            for value in (*args, *kwargs.values()):
                _PASSED.pop(id(value), None)
        result = self.answers.take(self.name, args, kwargs) if self.answers else None
        if result is None:
            result = self.session.call(self.module, self.name, args, kwargs)
        self.record(result)
        if not result.ok:
            raise self._error(result)
        for original, after in zip(args, result.after):
            _copy_back(original, after)
        return result.value

    def _error(self, result: CallResult) -> StudentError:
        """The exception for a call that gave no value, naming the function and its code."""
        error = StudentTimeout if result.kind == "timeout" else StudentError
        source = self.session.sources.get(self.module, "")
        if not source:
            return error(result.kind, result.message, self.name)
        return error(result.kind, result.message, self.name,
                     function_code(source, self.name))


def key(function: str, args: tuple[object, ...], kwargs: dict[str, object]) -> Hashable:
    """What identifies a call: the function and the exact values (dtype, shape, bytes) passed."""
    return (function, tuple(_value_key(a) for a in args),
            tuple(sorted((k, _value_key(v)) for k, v in kwargs.items())))


def _value_key(value: object) -> Hashable:
    if isinstance(value, np.ndarray):
        return ("array", type(value).__name__, value.dtype.str, value.shape,
                np.ascontiguousarray(value).tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_value_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), _value_key(v)) for k, v in value.items())))
    # type and repr: 1, 1.0, True and np.float64(1.0) stay apart.
    return (type(value).__name__, repr(value))


def _copy_back(original: object, after: object) -> None:
    """Mirror an in-place change the student made to an argument array."""
    if not isinstance(original, np.ndarray) or not isinstance(after, np.ndarray):
        return
    if original.shape != after.shape or not original.flags.writeable:
        return
    if not np.array_equal(original, after, equal_nan=original.dtype.kind in "fc"):
        _remember_as_passed(original)
        np.copyto(original, after, casting="unsafe")


_Record = tuple["weakref.ref[np.ndarray]", np.ndarray]
_PASSED: dict[int, _Record] = {}
"""Arrays the latest student call that was given them changed in place, by id: the array
(weakly: a record must not keep a test's array alive, nor outlive it) and a copy of it as the
call was given it."""


def _remember_as_passed(original: np.ndarray) -> None:
    key = id(original)

    def forget(ref: weakref.ref[np.ndarray]) -> None:
        # Only this array's own record: its id may have been given to a newer one since.
        if _PASSED.get(key, (None,))[0] is ref:
            del _PASSED[key]

    _PASSED[key] = (weakref.ref(original, forget), original.copy())


def as_passed(inp: object) -> object:
    """`inp` as the student's function was given it.

    An array (or an array value of a mapping of arguments) that the latest call it was passed
    to changed in place is replaced by a copy of its value before that call; anything else is
    returned as it is.
    """
    if isinstance(inp, Mapping):
        if not any(id(v) in _PASSED for v in inp.values()):
            return inp
        return {k: _array_as_passed(v) for k, v in inp.items()}
    return _array_as_passed(inp)


def _array_as_passed(value: object) -> object:
    found = _PASSED.get(id(value))
    # The id alone could be a newer object's: the weak reference says whether it is this one.
    if found is None or found[0]() is not value:
        return value
    return found[1]
