"""Calls and answers as the judge side sends and reads them: requests encoded once for many
children, answers decoded (and checked as plain data) only when read."""

from __future__ import annotations

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
        if kind == "memory" or "MemoryError" in message:
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


@dataclass(frozen=True)
class Batch:
    """The answers of one call_many round trip, each decoded only when it is read: a test
    whose verdict is reused reads none of them."""

    function: str
    """The function called."""
    answers: list[Any]
    """Each call's answer as the child sent it (undecoded)."""
    blobs: list[bytes]
    """The arrays the answers refer to."""
    memory: int
    """The memory limit, named in out-of-memory messages."""
    fingerprint: bytes
    """Hash of the reply as received: batches with equal fingerprints gave equal answers."""

    def __len__(self) -> int:
        return len(self.answers)

    def result(self, n: int) -> CallResult:
        """The n-th call's answer, decoded and checked."""
        answer = self.answers[n]
        return to_result(answer if isinstance(answer, dict) else {}, self.blobs, self.function,
                         self.memory)


def missing_module(module: str) -> CallResult:
    """The answer to any call into a module the submission does not have."""
    return CallResult(ok=False, kind="missing_module",
                      message=f"{module}.py was not found in your submission")


def encode_call(args: tuple[object, ...], kwargs: dict[str, object],
                blobs: list[bytes]) -> dict[str, Any]:
    """A call's arguments as specs, their arrays appended to `blobs`."""
    return {"args": [protocol.encode_value(a, blobs) for a in args],
            "kwargs": {k: protocol.encode_value(v, blobs) for k, v in kwargs.items()}}
