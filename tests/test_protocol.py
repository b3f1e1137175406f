"""The wire format: what a hostile child could send must be refused as data, never run as code."""

from __future__ import annotations

import json
import re
import socket
import struct
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox import protocol
from grader.sandbox.answers import to_result


def roundtrip(value: object) -> object:
    blobs: list[bytes] = []
    spec = protocol.encode_value(value, blobs)
    return protocol.decode_value(json.loads(json.dumps(spec)), blobs)


@pytest.mark.parametrize("value", [
    np.array([1.5, -2.0]), np.arange(6, dtype=np.int32).reshape(2, 3), np.array(3.0),
    np.zeros((0, 4)), np.array([True, False]), np.array([1 + 2j]), np.float32(2.5),
    np.int64(7), 3, 2.5, float("nan"), float("-inf"), True, None, "relu", [1, 2.0], (np.ones(2), 3),
])
def test_plain_values_round_trip(value: object) -> None:
    back = roundtrip(value)
    assert type(back) is type(value) or (isinstance(value, tuple) and isinstance(back, tuple))
    if isinstance(value, np.ndarray):
        assert isinstance(back, np.ndarray)
        assert back.dtype == value.dtype and back.shape == value.shape
        assert np.array_equal(back, value)
        assert back.flags.writeable


@pytest.mark.parametrize("value, words", [
    (np.array([object()]), "dtype object"),
    (np.zeros(2).view(np.recarray), "subclass of ndarray"),
    (np.ma.array([1.0]), "subclass of ndarray"),
    ({"a": 1}, "dict object"),
    (type("Liar", (), {"__eq__": lambda self, other: True})(), "Liar object"),
    (np.array(["a"]), "dtype <U1"),
])
def test_unsupported_values_are_refused(value: object, words: str) -> None:
    with pytest.raises(protocol.UnsupportedValue, match=words):
        protocol.encode_value(value, [])


@pytest.mark.parametrize("spec", [
    {"t": "nd", "i": 0, "dtype": "|O", "shape": [1]},
    {"t": "nd", "i": 0, "dtype": "<f8", "shape": [1000]},
    {"t": "nd", "i": 0, "dtype": "(2,)<f8", "shape": [1]},
    {"t": "nd", "i": 0, "dtype": "<f8", "shape": [-1]},
    {"t": "nd", "i": 5, "dtype": "<f8", "shape": [1]},
    {"t": "pickle", "v": "gASV"},
    {"t": "i", "v": "9" * 5000},
    {"t": "list", "items": [[]] * 3},
])
def test_hostile_specs_are_refused(spec: dict[str, object]) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_value(spec, [b"\x00" * 8])


def test_oversized_frame_is_refused_before_it_is_read() -> None:
    ours, theirs = socket.socketpair()
    theirs.sendall(struct.pack(">Q", protocol.MAX_FRAME + 1))
    with pytest.raises(protocol.ProtocolError, match="larger than 64 MiB"):
        protocol.recv_frame(ours, deadline=time.monotonic() + 1)


def test_slow_sender_hits_the_deadline() -> None:
    ours, theirs = socket.socketpair()
    theirs.sendall(struct.pack(">Q", 100) + b"x")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        protocol.recv_frame(ours, deadline=time.monotonic() + 0.2)
    assert time.monotonic() - started < 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_escape_as_other_errors(data: bytes) -> None:
    ours, theirs = socket.socketpair()
    theirs.sendall(data)
    theirs.close()
    try:
        header, blobs = protocol.recv_frame(ours, deadline=time.monotonic() + 1)
        protocol.decode_value(header.get("result"), blobs)
    except (protocol.ProtocolError, EOFError, TimeoutError):
        pass


@pytest.mark.parametrize("value, dtype, expected", [
    (np.frompyfunc(lambda x: max(x, 0), 1, 1)(np.array([-2, 0, 3])), np.float64, [0.0, 0.0, 3.0]),
    (np.array([1, 2.5, np.float32(0.5), np.int8(-4), np.uint64(7), True], dtype=object),
     np.float64, [1.0, 2.5, 0.5, -4.0, 7.0, 1.0]),
    (np.array([True, np.bool_(False)], dtype=object), np.bool_, [True, False]),
    (np.array([], dtype=object), np.float64, []),
])
def test_object_arrays_of_numbers_travel_as_numbers(value: object, dtype: type,
                                                    expected: list[float]) -> None:
    back = roundtrip(value)
    assert isinstance(back, np.ndarray) and back.dtype == dtype
    assert back.tolist() == expected


def test_object_arrays_keep_their_shape() -> None:
    value = np.arange(6).reshape(2, 3).astype(object).T
    back = roundtrip(value)
    assert isinstance(back, np.ndarray) and back.shape == (3, 2) and back.dtype == np.float64
    assert np.array_equal(back, value.astype(np.float64))


class _Loud(float):
    """A float whose conversions would be noticed."""

    ran = False

    def __float__(self) -> float:
        _Loud.ran = True
        return 0.0

    def __index__(self) -> int:
        _Loud.ran = True
        return 0


@pytest.mark.parametrize("value, words", [
    (np.array([1.0, "a"], dtype=object), "entry 1 is of type str, not a number"),
    (np.array([[1.0, 2.0], [3.0, _Loud(4.0)]], dtype=object), "entry (1, 1) is of type _Loud"),
    (np.array(None, dtype=object), "only entry is of type NoneType"),
    (np.array([1 + 2j], dtype=object), "entry 0 is of type complex"),
    (np.array([np.zeros(2), np.zeros(3)], dtype=object), "entry 0 is of type ndarray"),
    (np.array([10**400], dtype=object), "integer too large for a float64"),
])
def test_object_arrays_of_anything_else_are_refused(value: object, words: str) -> None:
    with pytest.raises(protocol.UnsupportedValue, match=re.escape(words)):
        protocol.encode_value(value, [])
    assert not _Loud.ran


def test_too_big_array_is_described_not_copied() -> None:
    # A view of one number: 8 GB as NumPy counts it, nothing in memory.
    huge = np.broadcast_to(np.float64(1.0), (1000, 1000, 1000))
    blobs: list[bytes] = []
    with pytest.raises(protocol.TooBig) as raised:
        protocol.encode_value((huge, 1), blobs)
    assert raised.value.fields == {"size": 10**9, "dtype": "float64", "shape": [1000, 1000, 1000]}
    assert blobs == []
    fits = np.zeros(protocol.MAX_ARRAY_BYTES // 8)
    assert roundtrip(fits).shape == fits.shape  # type: ignore[attr-defined]
    with pytest.raises(protocol.TooBig):  # an object array counts as the float64 it becomes
        protocol.encode_value(np.broadcast_to(np.array(1, dtype=object), (10**7,)), [])


def test_too_big_answer_is_put_in_words() -> None:
    reply = {"ok": False, "kind": "too_big", "message": "MemoryError", "size": 10**8,
             "dtype": "float64", "shape": [10**8]}
    result = to_result(reply, [], "relu", 1 << 30)
    assert result.kind == "too_big"
    assert result.message == ("your relu() returned 100,000,000 values (float64, shape "
                              "(100000000,)), more than an answer may hold (32 MiB)")


@pytest.mark.parametrize("fields", [
    {"size": 10, "dtype": "float64", "shape": [3]},
    {"size": "10", "dtype": "float64", "shape": [10]},
    {"size": 10, "dtype": "<script>", "shape": [10]},
    {"size": 10, "dtype": "float64", "shape": "10"},
    {"size": 0, "dtype": "float64", "shape": [-1, 0]},
    {"size": 10, "dtype": "float64", "shape": [True] * 10},
    {"size": 1, "dtype": "float64", "shape": [1] * 40},
    {"size": 2**70, "dtype": "float64", "shape": [2**35, 2**35]},
    {},
])
def test_hostile_too_big_descriptions_are_not_repeated(fields: dict[str, object]) -> None:
    result = to_result({"ok": False, "kind": "too_big", **fields}, [], "relu", 1 << 30)
    assert result.message == "your relu() returned an array larger than an answer may hold (32 MiB)"
