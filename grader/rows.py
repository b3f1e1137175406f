"""A sequence whose items are made from compact records when asked, one at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar, overload

_S = TypeVar("_S")
_T = TypeVar("_T")


class Rows(Sequence[_T], Generic[_S, _T]):
    """Items made from compact records when asked, one at a time: the rows of a large class's
    page, or its results read back from parts, without ever holding them all."""

    def __init__(self, records: Sequence[_S], make: Callable[[_S], _T]) -> None:
        self._records = records
        self._make = make

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, i: int) -> _T: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[_T]: ...

    def __getitem__(self, i: int | slice) -> _T | Sequence[_T]:
        if isinstance(i, slice):
            return Rows(self._records[i], self._make)
        return self._make(self._records[i])

    def __iter__(self) -> Iterator[_T]:
        return map(self._make, self._records)

    def __eq__(self, other: object) -> bool:
        """Equal to any other sequence of equal rows, in the same order."""
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Rows({len(self)} rows)"
