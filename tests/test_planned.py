"""Planned calls: decoded once by the sandbox worker, asked of each child in one round trip.

Small limits throughout, so a failure of the sandbox stays harmless.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from grader.sandbox.answers import Batch, MapRequest, map_request
from grader.sandbox.client import Sandbox, SandboxConfig

ACTIVATIONS = """
    import numpy as np
    def relu(z):
        return np.maximum(0, z)
    def sigmoid(z):
        print("sigmoid of", z.shape)
        return 1 / (1 + np.exp(-z))
    def clobber(z):
        z[z < 0] = 0
        return z.sum()
    def spin(z):
        while True:
            pass
"""
LEAKY = """
    import numpy as np
    def leaky_relu(z, alpha=0.01):
        return np.where(z > 0, z, alpha * z)
"""
BROKEN = """
    raise RuntimeError("broken at import")
"""
INPUTS = [np.array([-1.0, 2.0, -3.0]), np.arange(-3, 3), np.zeros((2, 0)), np.float64(-2.5)]


def make_sandbox(tmp_path: Path, name: str) -> Sandbox:
    work = tmp_path / name
    work.mkdir()
    return Sandbox(SandboxConfig(timeout=0.5, memory_bytes=256 << 20, hide=(str(work),),
                                 workdir=str(work)))


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[tuple[Sandbox, Sandbox]]:
    plain, planned = make_sandbox(tmp_path, "plain"), make_sandbox(tmp_path, "planned")
    yield plain, planned
    plain.close()
    planned.close()


def sources(**modules: str) -> dict[str, str]:
    return {name: textwrap.dedent(text) for name, text in modules.items()}


def request(module: str, function: str, *extra: dict[str, object]) -> MapRequest:
    calls = [((z,), {}) for z in INPUTS] + [((INPUTS[0],), kw) for kw in extra]
    return map_request(module, function, calls)


def answers(batch: Batch | None) -> list[tuple[object, ...]]:
    assert batch is not None
    return [(r.ok, r.kind, r.message, r.stdout, r.warnings, repr(r.value), repr(r.after))
            for r in (batch.result(n) for n in range(len(batch)))]


def test_a_run_answers_exactly_like_one_request_per_batch(
        sandboxes: tuple[Sandbox, Sandbox]) -> None:
    plain, planned = sandboxes
    requests = [request("activations", "relu"), request("activations", "sigmoid"),
                request("leaky_relu", "leaky_relu", {"alpha": 0.5})]
    planned.prepare(requests)
    code = sources(activations=ACTIVATIONS, leaky_relu=LEAKY)
    one_by_one = [plain.open(code).fetch(r) for r in requests]
    session = planned.open(code)
    together = session.fetch_many(requests)
    assert all(planned.planned_index(r) is not None for r in requests)
    assert all(plain.planned_index(r) is None for r in requests)
    # The very same bytes came back (the fingerprint hashes the reply as received).
    assert [b.fingerprint for b in together if b] == [b.fingerprint for b in one_by_one if b]
    assert [answers(b) for b in together] == [answers(b) for b in one_by_one]
    assert answers(together[1])[0][3] == "sigmoid of (3,)\n"
    session.close()


def test_a_planned_input_changed_in_place_is_fresh_for_every_call_and_child(
        sandboxes: tuple[Sandbox, Sandbox]) -> None:
    _, box = sandboxes
    twice = map_request("activations", "clobber", [((INPUTS[0],), {}), ((INPUTS[0],), {})])
    box.prepare([twice])
    for _ in range(2):  # a second child of the same worker sees the plan as it was sent
        session = box.open(sources(activations=ACTIVATIONS))
        (batch,) = session.fetch_many([twice])
        assert batch is not None
        for n in range(2):
            result = batch.result(n)
            assert result.value == 2.0  # -1 and -3 zeroed before the sum, in both calls
            np.testing.assert_array_equal(result.after[0], [0.0, 2.0, 0.0])
        session.close()
    np.testing.assert_array_equal(INPUTS[0], [-1.0, 2.0, -3.0])


def test_a_run_goes_on_in_a_new_child_after_a_hang_and_skips_a_broken_module(
        sandboxes: tuple[Sandbox, Sandbox]) -> None:
    _, box = sandboxes
    requests = [request("activations", "spin"), request("activations", "relu"),
                request("broken", "anything"), request("leaky_relu", "leaky_relu")]
    box.prepare(requests)
    session = box.open(sources(activations=ACTIVATIONS, broken=BROKEN, leaky_relu=LEAKY))
    first_child = session._ensure_child()
    spin, relu, broken, leaky = session.fetch_many(requests)
    # The hang costs its own batch, counted once like a hang of a single request.
    assert spin is None and session.timeouts == {("activations", "spin"): 1}
    assert relu is not None and answers(relu)[0][:2] == (True, "")
    assert broken is None and "broken" not in session.loaded
    assert leaky is not None and len(leaky) == len(INPUTS)
    assert session.chan is not first_child  # the child that hung was replaced
    # Single calls still say why the broken module gives nothing.
    failed = session.call("broken", "anything", (INPUTS[0],), {})
    assert failed.kind == "import_error" and "broken at import" in failed.message
    session.close()


def test_a_request_the_worker_does_not_hold_travels_whole(
        sandboxes: tuple[Sandbox, Sandbox]) -> None:
    _, box = sandboxes
    known, unknown = request("activations", "relu"), request("activations", "sigmoid")
    box.prepare([known])
    box.start()
    assert box.request_frame(unknown) == unknown.frame
    assert len(box.request_frame(known)) < len(known.frame)
    session = box.open(sources(activations=ACTIVATIONS))
    assert [answers(b) for b in session.fetch_many([known, unknown])] == [
        answers(box.open(sources(activations=ACTIVATIONS)).fetch(r)) for r in (known, unknown)]
    session.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process names are Linux's")
def test_grader_processes_are_named(sandboxes: tuple[Sandbox, Sandbox]) -> None:
    box, _ = sandboxes
    session = box.open(sources(activations=ACTIVATIONS))
    session._ensure_child()
    assert session.pid is not None and box._proc is not None

    def comm(pid: int) -> str:
        return Path(f"/proc/{pid}/comm").read_text().strip()

    assert comm(box._proc.pid) == "grade-sandbox"
    assert comm(session.pid) == "grade-student"
    session.close()
    assert not os.path.exists(f"/proc/{session.pid}") or session.pid is None


@pytest.mark.parametrize("raw", [b"[{\"ok\": true", b"{}", b"[{}, {}, {}]", b"[1]", b"[[]]"])
def test_answers_that_do_not_decode_fail_each_call_not_the_judge(raw: bytes) -> None:
    # The answers are decoded when first read: a forged or broken reply (not JSON, not a list,
    # a count that differs from what arrived in the header, an entry that is not an object)
    # fails the call that reads it.
    batch = Batch("relu", 1, raw, [], 1 << 30, b"")
    result = batch.result(0)
    assert (result.ok, result.kind, result.message) == (
        False, "bad_return", "your relu() sent back something unreadable")


def test_answers_are_decoded_only_when_read(sandboxes: tuple[Sandbox, Sandbox]) -> None:
    _, box = sandboxes
    relu = request("activations", "relu")
    box.prepare([relu])
    session = box.open(sources(activations=ACTIVATIONS))
    (batch,) = session.fetch_many([relu])
    session.close()
    assert batch is not None and len(batch) == len(INPUTS)
    assert batch._raw is not None  # kept as received until a test reads an answer
    assert batch.result(1).value.tolist() == [0, 0, 0, 0, 1, 2]
    assert batch._raw is None
