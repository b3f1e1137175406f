"""Wire format between the judge and a sandbox child: a JSON header plus raw array bytes, never pickle.

A frame is an 8-byte total length, a 4-byte header length and the JSON header, a 4-byte blob
count with one 8-byte size per blob, then the blobs. Values are described in the header ("spec"s);
an array travels as its dtype string (numeric dtypes only, checked against a whitelist), its
shape and its raw bytes, which the judge turns back into an ndarray with np.frombuffer (an object
array whose entries are all numbers is first turned, on the child's side, into the float64 or
bool array it stands for; an array too big to send is described instead). That is
the same plain data as NumPy's .npy with allow_pickle=False, without parsing an .npy header for
every call. Both sides import this module; the judge treats everything the child sends as
hostile and validates it in `decode_value`.
"""

from __future__ import annotations

import json
import math
import re
import socket
import struct
import time
from typing import Any

import numpy as np

#: The most bytes one frame from a child may carry; bigger answers are rejected, not read.
MAX_FRAME = 64 * 1024 * 1024
#: The most bytes of numbers one array in an answer may hold. Half a frame: the arguments a call
#: changed in place travel in the same frame. A bigger array is described (TooBig), not sent.
MAX_ARRAY_BYTES = MAX_FRAME // 2
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
    """A value that cannot travel as plain data (object arrays of anything but numbers,
    subclasses, arbitrary objects)."""


class TooBig(UnsupportedValue):
    """An array with more than MAX_ARRAY_BYTES of numbers: its size, dtype and shape (`fields`)
    travel instead, put in words by the judge (grader.sandbox.answers.too_big_text), so the
    student learns what came back without the judge (or the child, copying it) holding it."""

    def __init__(self, array: np.ndarray[Any, Any]) -> None:
        self.fields = {"size": int(array.size), "dtype": str(array.dtype.name),
                       "shape": [int(n) for n in array.shape]}
        super().__init__(f"{array.size} values, more than {limit_text(MAX_ARRAY_BYTES)}")


def send_frame(sock: socket.socket, header: dict[str, Any], blobs: list[bytes] = []) -> None:
    """Write one frame: total length, JSON header, blob sizes, blobs — in a single send."""
    sock.sendall(encode_frame(header, blobs))


def encode_frame(header: dict[str, Any], blobs: list[bytes] = []) -> bytes:
    """The bytes send_frame writes (a frame sent to many peers is encoded once)."""
    head = json.dumps(header, allow_nan=False).encode()
    body = [struct.pack(">I", len(head)), head, struct.pack(">I", len(blobs)),
            struct.pack(f">{len(blobs)}Q", *map(len, blobs)), *blobs]
    total = sum(map(len, body))
    return b"".join([struct.pack(">Q", total), *body])


def recv_frame(sock: socket.socket, limit: int = MAX_FRAME, deadline: float | None = None,
               digest: Any = None) -> tuple[dict[str, Any], list[bytes]]:
    """Read one frame; EOFError when the peer closed, ProtocolError when it is malformed,
    TimeoutError when `deadline` (a time.monotonic() value) passes first. `digest` (a hashlib
    object), if given, is fed the frame's bytes as received."""
    (total,) = struct.unpack(">Q", _recv_exact(sock, 8, deadline))
    if total > limit:
        raise ProtocolError(f"answer larger than {limit_text(limit)}")
    raw = _recv_exact(sock, total, deadline)
    if digest is not None:
        digest.update(raw)
    return decode_body(raw)


def decode_frame(frame: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The header and blobs of a whole frame as encode_frame made it."""
    if len(frame) < 8 or struct.unpack_from(">Q", frame)[0] != len(frame) - 8:
        raise ProtocolError("malformed frame")
    return decode_body(frame[8:])


def decode_body(raw: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """A frame's header and blobs from its bytes after the length."""
    total = len(raw)
    body = memoryview(raw)
    try:
        (head_len,) = struct.unpack_from(">I", body, 0)
        header = json.loads(bytes(body[4:4 + head_len]))
        offset = 4 + head_len
        (count,) = struct.unpack_from(">I", body, offset)
        sizes = struct.unpack_from(f">{count}Q", body, offset + 4)
    except (ValueError, RecursionError, struct.error):
        raise ProtocolError("malformed frame") from None
    if not isinstance(header, dict):
        raise ProtocolError("frame header is not an object")
    offset += 4 + 8 * count
    if offset + sum(sizes) != total:
        raise ProtocolError("frame sizes do not add up")
    blobs = []
    for size in sizes:
        blobs.append(bytes(body[offset:offset + size]))
        offset += size
    return header, blobs


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("deadline passed")
            # The socket stays in timeout mode: switching back to blocking costs syscalls.
            sock.settimeout(remaining)
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
        if value.dtype.fields is not None or value.dtype.kind not in NUMERIC_KINDS + "O":
            raise UnsupportedValue(f"a NumPy array of dtype {value.dtype}, not numbers")
        # Before any copy: tobytes() of a huge answer would only end in a MemoryError. An
        # object array becomes float64, as many bytes per entry as its pointers.
        if value.nbytes > MAX_ARRAY_BYTES:
            raise TooBig(value)
        if value.dtype.kind == "O":
            value = object_numbers(value)
        return _array_spec("nd", value, blobs)
    if isinstance(value, np.ndarray):
        raise UnsupportedValue(f"a {type(value).__name__} (a subclass of ndarray), not a plain ndarray")
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        if value.dtype.kind not in NUMERIC_KINDS:
            raise UnsupportedValue(f"a NumPy {value.dtype} scalar, not a number")
        return _array_spec("np", np.asarray(value), blobs)
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


#: Entries of an object array whose types are looked at in one go: the scan's own memory stays
#: small whatever the array's size.
_SCAN_CHUNK = 1 << 16
#: Identities of the types an object array's entries may have to be read as numbers: exact
#: types, compared by id, so no method of an entry or of its class (a hostile __float__, __eq__
#: or metaclass __hash__) runs before every entry is known to be a plain number.
_REAL_TYPES = frozenset(id(t) for t in (int, float, *(
    np.dtype(code).type for code in np.typecodes["AllInteger"] + np.typecodes["Float"])))
_BOOL_TYPES = frozenset({id(bool), id(np.bool_)})


def object_numbers(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """An object array (np.frompyfunc's, np.vectorize's without otypes) as the numbers it holds:
    float64, or bool when every entry is a bool (bools among numbers count as 0 and 1, as in
    np.array([True, 2.5])). UnsupportedValue, naming the first other entry, if an entry is
    anything but an int, float, bool or NumPy integer, floating or bool scalar."""
    flat = array.reshape(-1)
    allowed = _REAL_TYPES | _BOOL_TYPES
    seen: set[int] = set()
    for start in range(0, flat.size, _SCAN_CHUNK):
        chunk = flat[start:start + _SCAN_CHUNK].tolist()
        kinds = set(map(id, map(type, chunk)))
        if not kinds <= allowed:
            offset = next(n for n, item in enumerate(chunk) if id(type(item)) not in allowed)
            raise UnsupportedValue(f"a NumPy array of dtype object whose "
                                   f"{_entry(start + offset, array.shape)} is of type "
                                   f"{_type_name(chunk[offset])}, not a number")
        seen |= kinds
    target = np.bool_ if seen and seen <= _BOOL_TYPES else np.float64
    try:
        return np.asarray(array, dtype=target)
    except OverflowError:  # a Python int beyond float64's range (about 1.8e308)
        raise UnsupportedValue("a NumPy array of dtype object holding an integer too large "
                               "for a float64") from None


def _entry(index: int, shape: tuple[int, ...]) -> str:
    """'entry 3', 'entry (1, 2)': where the flat `index` sits in an array of `shape`."""
    if not shape:
        return "only entry"
    where = tuple(int(i) for i in np.unravel_index(index, shape))
    return f"entry {where[0] if len(where) == 1 else where}"


def _array_spec(tag: str, array: np.ndarray[Any, Any], blobs: list[bytes]) -> dict[str, Any]:
    """An array as its dtype string, its shape and its raw bytes: nothing that could run code."""
    blobs.append(np.ascontiguousarray(array).tobytes())
    return {"t": tag, "i": len(blobs) - 1, "dtype": array.dtype.str, "shape": list(array.shape)}


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


_DTYPE = re.compile(r"[<>|=]?(b1|[iu][1248]|f[248]|c(8|16))")
MAX_DIMS = 32


def _load_blob(spec: dict[str, Any], blobs: list[bytes]) -> np.ndarray[Any, Any]:
    index, dtype, shape = spec.get("i"), spec.get("dtype"), spec.get("shape")
    if not isinstance(index, int) or not 0 <= index < len(blobs):
        raise ProtocolError("array reference out of range")
    if not isinstance(dtype, str) or not _DTYPE.fullmatch(dtype):
        raise ProtocolError("array is not numeric")
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise ProtocolError("malformed array shape")
    kind = np.dtype(dtype)
    if math.prod(shape) * kind.itemsize != len(blobs[index]):
        raise ProtocolError("array size does not match its shape")
    # A copy: a writable array of our own, not a view on the received bytes.
    return np.frombuffer(blobs[index], dtype=kind).reshape(shape).copy()
