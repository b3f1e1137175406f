"""The calls a test will make, learnt by running it once with the reference in the student's place.

Inputs come from fixed cases and from the test's seeded `rng`, so the calls a test makes on a
correct submission are known before any submission runs. The judge fetches their answers from
each submission ahead of the tests, one round trip per function instead of one per call
(grader.judge.proxy.Answers). A submission that answers differently may lead a test to other
calls; those simply go to the sandbox one by one.
"""

from __future__ import annotations

import copy
import types
from typing import Any, Callable

from grader.judge.proxy import Call


class RecordingModule:
    """Stands in for the student's module: records each call, answers with the reference."""

    def __init__(self, reference: types.ModuleType, calls: list[Call]) -> None:
        self._reference = reference
        self._calls = calls

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):
            raise AttributeError(name)
        function = getattr(self._reference, name)

        def recorded(*args: object, **kwargs: object) -> Any:
            # Copies: the test may change its arrays after the call (or the reference may).
            self._calls.append((name, copy.deepcopy(args), copy.deepcopy(kwargs)))
            return function(*args, **kwargs)

        return recorded


def record(test: Callable[..., object], arguments: dict[str, object],
           reference: types.ModuleType) -> list[Call]:
    """The calls `test` makes when the reference plays the student (`arguments`: its other fixtures).

    Whatever the test does besides is of no interest here: an exception only ends the recording.
    """
    calls: list[Call] = []
    try:
        test(**{**arguments, "student": RecordingModule(reference, calls)})
    except Exception:  # noqa: BLE001 - a plan is only a speed-up; the real run reports failures
        pass
    return calls
