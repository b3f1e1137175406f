"""Calls and answers as the judge side sends and reads them: requests encoded once for many
children, answers decoded (and checked as plain data) only when read."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from grader.records import CallResult
from grader.sandbox import protocol


def to_result(reply: dict[str, Any], blobs: list[bytes], function: str,
              memory: int) -> CallResult:
    """A child's answer to one call, checked: only plain numbers and arrays get through."""
    stdout = str(reply.get("stdout", ""))[: 2 * 4096]
    warns = tuple(str(w)[:300] for w in list(reply.get("warnings", []))[:5])
    if not reply.get("ok"):
        kind = str(reply.get("kind", "exception"))
        message = str(reply.get("message", ""))[:2000]
        if kind == "too_big":  # said from the size, dtype and shape sent, once checked
            message = f"your {function}() returned {too_big_text(reply)}"
        elif kind == "memory" or "MemoryError" in message:
            kind = "memory"
            message = f"your {function}() used more than {protocol.limit_text(memory)} of memory"
        return CallResult(ok=False, kind=kind, message=message, stdout=stdout, warnings=warns)
    try:
        value = protocol.decode_value(reply.get("result"), blobs)
        after = [None if a is None else protocol.decode_value(a, blobs)
                 for a in list(reply.get("after", []))]
    except (protocol.ProtocolError, ValueError, RecursionError) as exc:
        return CallResult(ok=False, kind="bad_return",
                          message=f"your {function}() returned something unreadable: {exc}")
    return CallResult(ok=True, value=value, after=tuple(after), stdout=stdout, warnings=warns)


#: A dtype's name as a too-big answer may give it (e.g. float64, int32, bool, object).
_DTYPE_NAME = re.compile(r"[a-z]{3,10}[0-9]{0,3}")


def too_big_text(reply: dict[str, Any]) -> str:
    """What a too-big answer held, from the child's description checked as plain data:
    '100,000,000 values (float64, shape (100000000,)), more than an answer may hold (32 MiB)'."""
    size, dtype, shape = reply.get("size"), reply.get("dtype"), reply.get("shape")
    cap = f"an answer may hold ({protocol.limit_text(protocol.MAX_ARRAY_BYTES)})"
    if (type(size) is not int or not 0 <= size < 1 << 63  # NumPy's own bound on a size
            or not isinstance(dtype, str) or not _DTYPE_NAME.fullmatch(dtype)
            or not isinstance(shape, list) or len(shape) > protocol.MAX_DIMS
            or not all(type(n) is int and 0 <= n < 1 << 63 for n in shape)
            or math.prod(shape) != size):
        return f"an array larger than {cap}"
    return f"{size:,} values ({dtype}, shape {tuple(shape)}), more than {cap}"


@dataclass(frozen=True)
class MapRequest:
    """Several calls of one function, encoded once to be asked of any number of children."""

    module: str
    """The student's module."""
    function: str
    """The function called."""
    count: int
    """How many calls."""
    frame: bytes
    """The request as sent."""


def map_request(module: str, function: str,
                calls: list[tuple[tuple[object, ...], dict[str, object]]]) -> MapRequest:
    """The request for several calls of module.function in one round trip."""
    blobs: list[bytes] = []
    header = {"op": "map", "module": module, "function": function,
              "calls": [encode_call(args, kwargs, blobs) for args, kwargs in calls]}
    return MapRequest(module, function, len(calls), protocol.encode_frame(header, blobs))


class Batch:
    """The answers of one call_many round trip, kept as the child sent them and decoded only
    when one is read: a test whose verdict is reused reads none of them, and undecoded they
    take a fifth of the memory."""

    def __init__(self, function: str, count: int, answers: bytes, blobs: list[bytes],
                 memory: int, fingerprint: bytes) -> None:
        self.function = function
        """The function called."""
        self.count = count
        """How many calls were answered (checked against the request on arrival)."""
        self.memory = memory
        """The memory limit, named in out-of-memory messages."""
        self.fingerprint = fingerprint
        """Hash of the reply as received: batches with equal fingerprints gave equal answers."""
        self._raw: bytes | None = answers
        self._blobs = blobs
        self._answers: list[Any] = []

    def __len__(self) -> int:
        return self.count

    def result(self, n: int) -> CallResult:
        """The n-th call's answer, decoded and checked."""
        if self._raw is not None:
            self._answers = _answer_list(self._raw, self.count)
            self._raw = None
        answer = self._answers[n] if n < len(self._answers) else None
        if answer is None:
            return CallResult(ok=False, kind="bad_return", message=(
                f"your {self.function}() sent back something unreadable"))
        return to_result(answer, self._blobs, self.function, self.memory)


def _answer_list(raw: bytes, count: int) -> list[Any]:
    """The child's answers (JSON), one dict or None (unreadable) per call."""
    try:
        answers = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    if not isinstance(answers, list) or len(answers) != count:
        return []
    return [a if isinstance(a, dict) else None for a in answers]


def missing_module(module: str) -> CallResult:
    """The answer to any call into a module the submission does not have."""
    return CallResult(ok=False, kind="missing_module",
                      message=f"{module}.py was not found in your submission")


def encode_call(args: tuple[object, ...], kwargs: dict[str, object],
                blobs: list[bytes]) -> dict[str, Any]:
    """A call's arguments as specs, their arrays appended to `blobs`."""
    return {"args": [protocol.encode_value(a, blobs) for a in args],
            "kwargs": {k: protocol.encode_value(v, blobs) for k, v in kwargs.items()}}
