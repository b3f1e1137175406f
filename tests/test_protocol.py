"""The wire format: what a hostile child could send must be refused as data, never run as code."""

from __future__ import annotations

import json
import socket
import struct
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox import protocol


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
