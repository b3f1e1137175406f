"""Grading several submissions side by side, and making several calls in one round trip.

Small limits throughout, so a failure of the sandbox stays harmless.
"""

from __future__ import annotations

import os
import types
import textwrap
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from grader.judge.cohort import GUARD_EVERY, Cohort
from grader.judge.errors import StudentTimeout
from grader.judge import plan
from grader.judge.proxy import Answers, StudentModule, grouped
from grader.records import CallResult
from grader.sandbox.client import Sandbox, SandboxConfig
from grader.sandbox.session import Session
from tests.procs import processes

ROOT = os.geteuid() == 0


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    work = tmp_path / "work"
    work.mkdir()
    box = Sandbox(SandboxConfig(timeout=0.5, memory_bytes=256 << 20, hide=(str(work),),
                                workdir=str(work)))
    yield box
    box.close()


def module(source: str) -> dict[str, str]:
    return {"activations": textwrap.dedent(source)}


class Counting:
    """Counts the single calls a session makes (prefetched answers do not count)."""

    def __init__(self, session: Session) -> None:
        self.count = 0
        original = session.call

        def counted(*args: Any) -> CallResult:
            self.count += 1
            return original(*args)

        session.call = counted  # type: ignore[method-assign]


RELU = """
    import numpy as np
    def relu(z):
        return np.maximum(0, z)
    def clobber(z):
        z[z < 0] = 0
        return z
"""


def fetched(session: Session, function: str, inputs: list[np.ndarray]) -> StudentModule:
    """The student's module with answers to function(z) for each z fetched ahead."""
    answers = Answers()
    answers.fetch(session, "activations", grouped("activations", [(function, (z.copy(),), {}) for z in inputs]))
    return StudentModule(session, "activations", lambda _: None, answers)


def test_answers_fetched_ahead_are_the_answers_of_single_calls(sandbox: Sandbox) -> None:
    session = sandbox.open(module(RELU))
    counter = Counting(session)
    inputs = [np.array([-1.0, 2.0]), np.arange(-3, 3), np.zeros((2, 0))]
    student = fetched(session, "relu", inputs)
    # Matched by value: equal arrays made afresh by the test find their answers.
    got = [student.relu(z.copy()) for z in inputs]
    assert counter.count == 0
    for z, value in zip(inputs, got):
        assert np.array_equal(value, np.maximum(0, z))  # type: ignore[arg-type]
    # Each answer is handed out once: asking again makes a real call.
    student.relu(inputs[0])
    assert counter.count == 1
    session.close()


def test_fetched_answer_is_not_used_for_other_values(sandbox: Sandbox) -> None:
    session = sandbox.open(module(RELU))
    counter = Counting(session)
    z = np.array([-1.0, 2.0])
    student = fetched(session, "relu", [z])
    z[0] = 5.0
    assert np.array_equal(student.relu(z), [5.0, 2.0])  # type: ignore[arg-type]
    assert counter.count == 1
    session.close()


def test_in_place_change_is_copied_back_from_a_fetched_answer(sandbox: Sandbox) -> None:
    session = sandbox.open(module(RELU))
    z = np.array([-1.0, 2.0])
    student = fetched(session, "clobber", [z])
    assert np.array_equal(z, [-1.0, 2.0])  # nothing changes before the test asks
    student.clobber(z)
    assert np.array_equal(z, [0.0, 2.0])
    session.close()


def test_slow_batch_falls_back_to_single_calls_within_the_limit(sandbox: Sandbox) -> None:
    # Each call takes 0.2 s (under the 0.5 s limit); six together exceed any one call's budget.
    session = sandbox.open(module("""
        import time
        def relu(z):
            time.sleep(0.2)
            return z * 2
    """))
    inputs = [np.array([float(n)]) for n in range(6)]
    student = fetched(session, "relu", inputs)
    assert [float(student.relu(z)[0]) for z in inputs] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]  # type: ignore[index]
    session.close()


def test_big_answers_are_fetched_one_by_one(sandbox: Sandbox) -> None:
    # Eight answers of 4 MB each would pass what one batch may carry (MAP_BYTES, 16 MB): the
    # batch gives up, and each call brings its own answer.
    session = sandbox.open(module("""
        import numpy as np
        def relu(z):
            return np.full(500_000, float(z[0]))
    """))
    counter = Counting(session)
    inputs = [np.array([float(n)]) for n in range(8)]
    answers = Answers()
    answers.fetch(session, "activations", grouped("activations", [("relu", (z,), {}) for z in inputs]))
    assert answers.digest is None
    student = StudentModule(session, "activations", lambda _: None, answers)
    assert [float(student.relu(z)[-1]) for z in inputs] == [float(n) for n in range(8)]  # type: ignore[index]
    assert counter.count == 8
    session.close()


def test_hang_inside_a_batch_is_pinned_on_the_exact_call(sandbox: Sandbox) -> None:
    session = sandbox.open(module("""
        def relu(z):
            while z[0] < 0:
                pass
            return z
    """))
    inputs = [np.array([1.0]), np.array([2.0]), np.array([-1.0])]
    student = fetched(session, "relu", inputs)
    assert float(student.relu(inputs[0])[0]) == 1.0  # type: ignore[index]
    assert float(student.relu(inputs[1])[0]) == 2.0  # type: ignore[index]
    start = time.monotonic()
    with pytest.raises(StudentTimeout, match=r"your relu\(\) did not return within 0.5 s"):
        student.relu(inputs[2])
    assert time.monotonic() - start < 5
    session.close()


def test_plan_records_the_calls_a_test_makes_on_the_reference() -> None:
    import types

    reference = types.ModuleType("reference")
    exec("import numpy as np\ndef relu(z):\n    return np.maximum(0, z)", reference.__dict__)

    def a_test(student: object, reference: object, rng: np.random.Generator) -> None:
        z = rng.normal(size=3)
        assert student.relu(z).shape == (3,)  # type: ignore[attr-defined]
        z[0] = 99.0  # changed after the call: the plan keeps the value that was passed
        student.relu(z, )  # type: ignore[attr-defined]
        raise AssertionError("a failing check only ends the recording")

    calls = plan.record(a_test, {"reference": reference, "rng": np.random.default_rng(1)},
                        reference)
    first = np.random.default_rng(1).normal(size=3)
    assert [c[0] for c in calls] == ["relu", "relu"]
    assert np.array_equal(calls[0][1][0], first)  # type: ignore[arg-type]
    assert float(calls[1][1][0][0]) == 99.0  # type: ignore[index]


def test_cohort_restarts_a_child_that_keeps_too_much_memory(sandbox: Sandbox) -> None:
    ids = ["hog", "lean"]
    sources = {"hog": module("""
        import numpy as np
        KEPT = np.ones(12_000_000)  # about 96 MB, held between calls
        def relu(z):
            return np.maximum(0, z)
    """), "lean": module(RELU)}
    cohort = Cohort(sandbox, ids, sources, memory_bytes=128 << 20)
    assert cohort.idle_share == 64 << 20
    for sid in ids:
        assert cohort.session(sid).call("activations", "relu", (np.ones(3),), {}).ok
        for _ in range(GUARD_EVERY):  # it looks every GUARD_EVERY tests
            cohort.after_test(sid)
    assert cohort.session("hog").pid is None  # restarted: forked again on its next call
    assert cohort.session("lean").pid is not None
    assert cohort.session("hog").call("activations", "relu", (np.ones(3),), {}).ok
    cohort.close()


@pytest.mark.skipif(not ROOT, reason="one uid per slot needs root")
def test_closing_one_child_of_a_cohort_spares_its_neighbour(sandbox: Sandbox) -> None:
    escaper = module("""
        import os, time
        def relu(z):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(60)
                os._exit(0)
            return z
    """)
    first, second = sandbox.open(escaper, slot=0), sandbox.open(module(RELU), slot=1)
    assert first.call("activations", "relu", (np.ones(2),), {}).ok
    assert second.call("activations", "relu", (np.ones(2),), {}).ok
    assert sandbox.uid is not None
    first.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _live(sandbox.uid):
        time.sleep(0.05)
    assert _live(sandbox.uid) == []
    assert _live(sandbox.uid + 1) != []
    assert second.call("activations", "relu", (np.ones(2),), {}).ok
    second.close()


def _live(uid: int) -> list[int]:
    return [p.pid for p in processes() if p.uid == uid and not p.zombie]


def test_plots_take_the_answers_fetched_ahead(sandbox: Sandbox) -> None:
    from grader.judge import plots
    from tests.test_cli import CORRECT_ACTIVATIONS

    def reference(exercise: str) -> types.ModuleType:
        import importlib
        return importlib.import_module(f"reference.{exercise}")

    exercises = ("activations",)
    planned = [(f, args, {}) for _, f, args in plots.planned_calls(exercises)]
    session = sandbox.open({"activations": CORRECT_ACTIVATIONS})
    answers = Answers()
    answers.fetch(session, "activations", grouped("activations", planned))
    batches = []
    original = session.call_many
    session.call_many = lambda *a: batches.append(a) or original(*a)  # type: ignore[method-assign]
    counter = Counting(session)
    ahead = plots.sample(session, reference, exercises, lambda _: answers)
    assert batches == [] and counter.count == 0
    # The same curves as plots sampled on their own, one round trip per plot.
    alone = plots.sample(session, reference, exercises)
    assert len(batches) == len(ahead) == 4
    assert ahead == alone and all(c["student"] == c["reference"] for c in ahead)
    session.close()


def test_calls_that_cannot_travel_are_left_out_of_the_plan() -> None:
    planned = grouped("activations", [("relu", (object(),), {}), ("relu", (np.ones(2),), {}),
                                      ("sigmoid", (np.ones(2),), {})])
    # relu's calls are made one by one, as the test makes them (and fail there, in its words).
    assert list(planned) == ["sigmoid"]
    assert planned["sigmoid"].request.count == 1


def test_warnings_in_a_batch_belong_to_the_call_that_raised_them(sandbox: Sandbox) -> None:
    session = sandbox.open(module("""
        import numpy as np
        def relu(z):
            return np.exp(z) * 0 + np.maximum(0, z)
    """))
    big, small = np.array([1000.0]), np.array([1.0])
    batch = session.call_many("activations", "relu", [((small,), {}), ((big,), {}), ((small,), {})])
    assert batch is not None
    warned = [batch.result(n).warnings for n in range(3)]
    assert warned[0] == () and warned[2] == ()
    assert warned[1] == ("RuntimeWarning: overflow encountered in exp",
                         "RuntimeWarning: invalid value encountered in multiply")
    # The same as the calls one by one.
    assert session.call("activations", "relu", (big,), {}).warnings == warned[1]
    session.close()
