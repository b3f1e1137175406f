"""The `student` object of a graded test: the proxy's (grader.judge.proxy), watched by the judge.

The proxy records what each call gave back, not what it was given. Two things need the
arguments too:
- a plot of where a plotted function failed (grader.judge.where_failed): the calls of plotted
  functions are logged with their arguments as passed and the value they returned;
- an answer too big to send back: its message names the shape the reference returns for the
  same call, so the student learns what was due next to what came back.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from grader.judge.errors import StudentError
from grader.judge.proxy import StudentFunction, StudentModule

#: Calls whose arrays hold more entries than this in all are not logged: a plot of where a
#: function failed shows a few dozen entries, and copying large inputs would cost every test.
LOG_ENTRIES = 4096


@dataclass(frozen=True)
class Logged:
    """One call of a plotted function that returned a value."""

    function: str
    """The function called."""
    args: tuple[object, ...]
    """Its positional arguments as passed (copies: the student may change them in place)."""
    kwargs: dict[str, object]
    """Its keyword arguments as passed (copies)."""
    value: object
    """What it returned, as plain data."""


@dataclass
class Watch:
    """The calls of one test run on one submission's module, as the judge watches them."""

    plotted: frozenset[str]
    """Functions of the module that have a plot: only their calls are logged."""
    reference: Callable[[], types.ModuleType]
    """The reference module (FileNotFoundError where the installation has none)."""
    log: list[Logged] = field(default_factory=list)
    """The logged calls, in order."""

    def module(self, inner: StudentModule) -> WatchedModule:
        """`inner`, every call of it watched."""
        return WatchedModule(inner, self)

    def reference_function(self, name: str) -> Callable[..., object] | None:
        """The reference's function `name`; None when there is no reference to ask."""
        try:
            module = self.reference()
        except FileNotFoundError:
            return None
        found = getattr(module, name, None)
        return found if callable(found) else None

    def reference_answer(self, name: str, args: tuple[object, ...],
                         kwargs: dict[str, object]) -> object | None:
        """What the reference returns for this call; None when it cannot say."""
        function = self.reference_function(name)
        if function is None:
            return None
        try:
            with np.errstate(all="ignore"):
                return function(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        except Exception:  # noqa: BLE001 - an input the reference refuses has no answer to show
            return None

    def too_big(self, error: StudentError, name: str, args: tuple[object, ...],
                kwargs: dict[str, object]) -> StudentError:
        """`error` (an answer too big to send back), its message naming the shape due."""
        answer = self.reference_answer(name, args, kwargs)
        if answer is None:
            return error
        try:
            shape = np.asarray(answer).shape
        except (TypeError, ValueError):  # ragged: no one shape to name
            return error
        due = "a single number" if shape == () else f"shape {shape}"
        return type(error)(error.kind, f"{error.message}; expected {due}", error.function,
                           error.code)

    def snapshot(self, name: str, args: tuple[object, ...], kwargs: dict[str, object]
                 ) -> tuple[tuple[object, ...], dict[str, object]] | None:
        """Copies of a call's arguments when the call is to be logged, else None."""
        if name not in self.plotted:
            return None
        arrays = [v for v in (*args, *kwargs.values()) if isinstance(v, np.ndarray)]
        if sum(v.size for v in arrays) > LOG_ENTRIES:
            return None
        return tuple(map(_copied, args)), {k: _copied(v) for k, v in kwargs.items()}


def _copied(value: object) -> object:
    return value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)


class WatchedModule:
    """Module-like view of a student's module whose calls a Watch sees."""

    def __init__(self, inner: StudentModule, watch: Watch) -> None:
        self._inner = inner
        self._watch = watch

    def __getattr__(self, name: str) -> WatchedFunction:
        if name.startswith("__"):
            raise AttributeError(name)
        return WatchedFunction(getattr(self._inner, name), self._watch)

    def __repr__(self) -> str:
        return repr(self._inner)


class WatchedFunction:
    """One function of the student's module, callable like the original."""

    def __init__(self, inner: StudentFunction, watch: Watch) -> None:
        self._inner = inner
        self._watch = watch

    def __call__(self, *args: object, **kwargs: object) -> object:
        name = self._inner.name
        passed = self._watch.snapshot(name, args, kwargs)
        try:
            value = self._inner(*args, **kwargs)
        except StudentError as error:
            if error.kind != "too_big":
                raise
            # Not changed in place: a call that gave no answer copies nothing back.
            raise self._watch.too_big(error, name, args, kwargs) from None
        if passed is not None:
            self._watch.log.append(Logged(name, *passed, value))
        return value
