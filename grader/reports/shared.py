"""Work shared between the pages of a class.

Most students' tests go the same way (every correct function passes the same tests with the same
empty messages; a common mistake fails the same tests with the same messages), so most of a
page's view models equal those of an earlier page. They are kept by what they are made from and
handed out again: equal inputs make equal, immutable views.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from grader.records import TestOutcome

_V = TypeVar("_V")


class Shared(Generic[_V]):
    """Views kept by key: at most `size` of them; past that it starts again empty."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: dict[Hashable, _V] = {}

    def get(self, key: Hashable, make: Callable[[], _V], keep: bool = True) -> _V:
        """The view kept under key, else make() (kept when keep and key is hashable)."""
        try:
            found = self._kept.get(key)
        except TypeError:  # an unhashable field: nothing to share
            return make()
        if found is None:
            found = make()
            if keep:
                if len(self._kept) >= self._size:
                    self._kept.clear()
                self._kept[key] = found
        return found

    def clear(self) -> None:
        self._kept.clear()


def outcome_key(t: TestOutcome) -> tuple[object, ...]:
    """What a student's page shows of a test: every field but id, pitfall, advisories and
    duration. A zero score goes in as its repr: 0.0 and -0.0 are equal but read 0 and -0."""
    return (t.name, t.function, t.exercise, t.outcome, t.score or repr(t.score),
            t.max_score or repr(t.max_score), t.visibility, t.message, t.misconception, t.hints,
            t.comparison, t.comparison_note)
