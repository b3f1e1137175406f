"""Wire format between the judge and a sandbox child: JSON headers plus .npy blobs, never pickle.

A frame is a 4-byte length and a JSON header, then a 4-byte blob count and, per blob, an 8-byte
length and the bytes. Values are described in the header ("spec"s) and arrays travel as .npy
bytes that the judge loads with allow_pickle=False. Both sides import this module; the judge treats
everything the child sends as hostile and validates it in `decode_value`.
"""

from __future__ import annotations

import io
import json
import socket
import struct
import time
from typing import Any

import numpy as np

#: The most bytes one frame from a child may carry; bigger answers are rejected, not read.
MAX_FRAME = 64 * 1024 * 1024
#: How deep lists/tuples may nest in a returned value.
MAX_DEPTH = 4
#: How many items one list/tuple may hold in a returned value.
MAX_ITEMS = 100_000
#: Longest string a child may return (concept answers are short words).
MAX_STR = 10_000
NUMERIC_KINDS = "biufc"


class ProtocolError(Exception):
    """A frame or value that does not follow the wire format (or breaks its limits)."""


class UnsupportedValue(Exception):
    """A value that cannot travel as plain data (object arrays, subclasses, arbitrary objects)."""


def send_frame(sock: socket.socket, header: dict[str, Any], blobs: list[bytes] = []) -> None:
    """Write one frame: the JSON header, then the blobs."""
    head = json.dumps(header, allow_nan=False).encode()
    parts = [struct.pack(">I", len(head)), head, struct.pack(">I", len(blobs))]
    for blob in blobs:
        parts.append(struct.pack(">Q", len(blob)))
        parts.append(blob)
    sock.sendall(b"".join(parts))


def recv_frame(sock: socket.socket, limit: int = MAX_FRAME,
               deadline: float | None = None) -> tuple[dict[str, Any], list[bytes]]:
    """Read one frame; EOFError when the peer closed, ProtocolError when it is malformed,
    TimeoutError when `deadline` (a time.monotonic() value) passes first."""
    budget = [limit]
    if deadline is not None:
        sock = _DeadlineSocket(sock, deadline)  # type: ignore[assignment]
    (head_len,) = struct.unpack(">I", _recv_exact(sock, 4, budget))
    try:
        header = json.loads(_recv_exact(sock, head_len, budget))
    except (ValueError, RecursionError):
        raise ProtocolError("frame header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ProtocolError("frame header is not an object")
    (count,) = struct.unpack(">I", _recv_exact(sock, 4, budget))
    blobs = []
    for _ in range(count):
        (size,) = struct.unpack(">Q", _recv_exact(sock, 8, budget))
        blobs.append(_recv_exact(sock, size, budget))
    return header, blobs


class _DeadlineSocket:
    """Wraps recv so that the whole frame, not each chunk, must arrive before the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline = sock, deadline

    def recv(self, size: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        self.sock.settimeout(remaining)
        try:
            return self.sock.recv(size)
        finally:
            self.sock.settimeout(None)


def _recv_exact(sock: socket.socket, size: int, budget: list[int]) -> bytes:
    if size > budget[0]:
        raise ProtocolError(f"answer larger than {limit_text(MAX_FRAME)}")
    budget[0] -= size
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            raise EOFError("peer closed the connection")
        chunks += chunk
    return bytes(chunks)


def limit_text(size: int) -> str:
    """A byte count in words: '64 MiB'."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


def encode_value(value: object, blobs: list[bytes], depth: int = 0) -> dict[str, Any]:
    """Describe `value` as a spec, appending array payloads to `blobs`; UnsupportedValue if impossible."""
    if type(value) is np.ndarray:
        if value.dtype.kind not in NUMERIC_KINDS or value.dtype.fields is not None:
            raise UnsupportedValue(f"a NumPy array of dtype {value.dtype}, not numbers")
        return {"t": "nd", "i": _add_blob(value, blobs)}
    if isinstance(value, np.ndarray):
        raise UnsupportedValue(f"a {type(value).__name__} (a subclass of ndarray), not a plain ndarray")
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        if value.dtype.kind not in NUMERIC_KINDS:
            raise UnsupportedValue(f"a NumPy {value.dtype} scalar, not a number")
        return {"t": "np", "i": _add_blob(np.asarray(value), blobs)}
    return _encode_python(value, blobs, depth)


def _encode_python(value: object, blobs: list[bytes], depth: int) -> dict[str, Any]:
    # Exact type checks: a subclass of int or list could carry a lying __eq__ or __iter__.
    kind = type(value)
    if value is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "b", "v": value}
    if kind is int and isinstance(value, int):
        return {"t": "i", "v": str(value)} if abs(value) < 10**300 else {"t": "f", "v": repr(float(value))}
    if kind is float:
        return {"t": "f", "v": repr(value)}
    if kind is str and isinstance(value, str):
        return {"t": "s", "v": value[:MAX_STR]}
    if kind in (list, tuple) and isinstance(value, (list, tuple)) and depth < MAX_DEPTH:
        items = list(value)[:MAX_ITEMS + 1]
        if len(items) > MAX_ITEMS:
            raise UnsupportedValue(f"a {kind.__name__} with more than {MAX_ITEMS} items")
        return {"t": kind.__name__, "items": [encode_value(v, blobs, depth + 1) for v in items]}
    raise UnsupportedValue(f"a {_type_name(value)} object, not a NumPy array or a number")


def _type_name(value: object) -> str:
    try:
        return str(type(value).__qualname__)[:80]
    except Exception:  # a hostile metaclass can make even this raise
        return "strange"


def _add_blob(array: np.ndarray[Any, Any], blobs: list[bytes]) -> int:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    blobs.append(buf.getvalue())
    return len(blobs) - 1


def decode_value(spec: object, blobs: list[bytes], depth: int = 0) -> object:
    """Turn a spec from the other side back into plain data, rejecting anything but numbers."""
    if not isinstance(spec, dict) or not isinstance(spec.get("t"), str):
        raise ProtocolError("malformed value")
    tag = spec["t"]
    if tag in ("nd", "np"):
        array = _load_blob(spec, blobs)
        if tag == "np":
            if array.ndim != 0:
                raise ProtocolError("scalar with a shape")
            return array[()]
        return array
    if tag == "none":
        return None
    if tag in ("b", "i", "f", "s"):
        return _decode_python(tag, spec.get("v"))
    if tag in ("list", "tuple") and depth < MAX_DEPTH:
        items = spec.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise ProtocolError("malformed sequence")
        decoded = [decode_value(item, blobs, depth + 1) for item in items]
        return decoded if tag == "list" else tuple(decoded)
    raise ProtocolError(f"unknown value tag {tag!r}")


def _decode_python(tag: str, raw: object) -> object:
    if tag == "b" and isinstance(raw, bool):
        return raw
    if tag == "i" and isinstance(raw, str) and len(raw) <= 310:
        return int(raw)
    if tag == "f" and isinstance(raw, str) and len(raw) <= 40:
        return float(raw)
    if tag == "s" and isinstance(raw, str) and len(raw) <= MAX_STR:
        return raw
    raise ProtocolError("malformed scalar")


def _load_blob(spec: dict[str, Any], blobs: list[bytes]) -> np.ndarray[Any, Any]:
    index = spec.get("i")
    if not isinstance(index, int) or not 0 <= index < len(blobs):
        raise ProtocolError("array reference out of range")
    try:
        array = np.load(io.BytesIO(blobs[index]), allow_pickle=False)
    except Exception as exc:  # np.load raises many types on hostile bytes
        raise ProtocolError(f"not a valid .npy array ({type(exc).__name__})") from None
    if type(array) is not np.ndarray or array.dtype.kind not in NUMERIC_KINDS:
        raise ProtocolError("array is not numeric")
    if array.dtype.fields is not None or array.dtype.hasobject:
        raise ProtocolError("array is not numeric")
    return array
