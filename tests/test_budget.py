"""The wall-clock budget per submission: a function slow in every call (each call under the
per-call limit) is stopped once the submission has used up its whole budget, and the rest of
the class is graded as if it were not there.

Through the real sandbox, with small limits and short sleeps, so hostile code stays bounded.
"""

from __future__ import annotations

import ast
import dataclasses
import textwrap
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from grader import paths, submissions
from grader.engine import GradeOptions, grade_submissions
from grader.records import GradeRun, Submission
from grader.sandbox.answers import map_request
from grader.sandbox.client import Sandbox, SandboxConfig

Z = np.array([-2.0, 0.0, 3.0])
SLOW = """
    import time
    import numpy as np
    def relu(z):
        time.sleep(0.3)
        return np.maximum(0, z)
"""
SPENT = "your submission used up its whole time budget ({} s) across all its calls"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    work = tmp_path / "work"
    work.mkdir()
    box = Sandbox(SandboxConfig(timeout=2.0, submission_timeout=1.0, memory_bytes=256 << 20,
                                hide=(str(work),), workdir=str(work)))
    yield box
    box.close()


def test_slow_calls_stop_at_the_submission_budget(sandbox: Sandbox) -> None:
    session = sandbox.open({"activations": textwrap.dedent(SLOW)})
    started = time.monotonic()
    results = [session.call("activations", "relu", (Z,), {}) for _ in range(10)]
    elapsed = time.monotonic() - started
    passed = [r for r in results if r.ok]
    # 0.3 s a call within 1 s: up to three calls fit (the first also pays the fork and import).
    assert 1 <= len(passed) <= 3 and results[:len(passed)] == passed
    stopped, *later = results[len(passed):]
    assert (stopped.kind, stopped.message) == ("timeout", "your relu() was stopped: " + SPENT.format(1))
    assert {(r.kind, r.message) for r in later} == {("timeout", "not run: " + SPENT.format(1))}
    # Not the function's own limit: nothing counted against relu.
    assert session.timeouts == {}
    assert session.chan is None and session.pid is None  # the child was ended
    assert elapsed < 2.5
    session.close()


def test_batches_cut_by_the_budget_give_no_answer(sandbox: Sandbox) -> None:
    # Five calls of 0.3 s: under the 2 s a batch may take, over the 1 s the submission has.
    request = map_request("activations", "relu", [((Z,), {})] * 5)
    planned = map_request("activations", "relu", [((Z * 2,), {})] * 5)
    sandbox.prepare([planned])
    session = sandbox.open({"activations": textwrap.dedent(SLOW)})
    started = time.monotonic()
    assert session.fetch(request) is None
    assert session.fetch_many([planned]) == [None]
    assert session.call_many("activations", "relu", [((Z,), {})]) is None
    late = session.call("activations", "relu", (Z,), {})
    assert (late.kind, late.message) == ("timeout", "not run: " + SPENT.format(1))
    assert session.timeouts == {} and time.monotonic() - started < 2.5
    session.close()


def test_a_planned_run_stops_at_the_budget(sandbox: Sandbox) -> None:
    planned = [map_request("activations", "relu", [((Z * n,), {})]) for n in range(1, 6)]
    sandbox.prepare(planned)
    session = sandbox.open({"activations": textwrap.dedent(SLOW)})
    started = time.monotonic()
    found = session.fetch_many(planned)
    # 0.3 s a batch: the first ones fit in 1 s, the one running then is cut, the rest not asked.
    answered = [batch for batch in found if batch is not None]
    assert 1 <= len(answered) <= 3 and found[:len(answered)] == answered
    assert session.timeouts == {} and session.chan is None
    assert time.monotonic() - started < 2.5
    session.close()


def test_a_budget_not_reached_changes_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    box = Sandbox(SandboxConfig(timeout=0.5, submission_timeout=30.0, memory_bytes=256 << 20,
                                hide=(str(work),), workdir=str(work)))
    try:
        session = box.open({"activations": "import time\ndef relu(z):\n    time.sleep(60)\n"})
        hung = session.call("activations", "relu", (Z,), {})
        assert hung.message == "your relu() did not return within 0.5 s"
        assert session.timeouts == {("activations", "relu"): 1} and 0.5 <= session.spent < 5
        session.close()
    finally:
        box.close()


def _slowed(source: str, seconds: float) -> str:
    """`source` with every top-level function sleeping `seconds` before it answers."""
    names = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    wrap = [f"{name} = _slow({name})" for name in names]
    return source + textwrap.dedent(f"""

        import functools as _functools
        import time as _time


        def _slow(function):
            @_functools.wraps(function)
            def slowed(*args, **kwargs):
                _time.sleep({seconds})
                return function(*args, **kwargs)
            return slowed


    """) + "\n".join(wrap) + "\n"


def _class(folder: Path, correct: int, slow: bool) -> list[Submission]:
    reference = (paths.reference_dir() / "activations.py").read_text()
    for n in range(correct):
        (folder / f"s{n:02d}").mkdir(parents=True)
        (folder / f"s{n:02d}" / "activations.py").write_text(reference + f"\n# student {n}\n")
    if slow:
        (folder / "slow").mkdir(parents=True)
        (folder / "slow" / "activations.py").write_text(_slowed(reference, 0.4))
    return submissions.discover(folder, folder.parent / (folder.name + "-unpack"))


def _timed(found: list[Submission], options: GradeOptions) -> tuple[GradeRun, float]:
    started = time.monotonic()
    run = grade_submissions(found, options)
    return run, time.monotonic() - started


def test_a_slow_submission_costs_the_class_its_budget_only(tmp_path: Path) -> None:
    options = GradeOptions(jobs=2, exercises=("activations",), timeout=2.0, memory_bytes=512 << 20,
                           plots=False, submission_timeout=3.0)
    correct, correct_time = _timed(_class(tmp_path / "correct", 4, slow=False), options)
    assert all(s.score == s.max_score > 0 for s in correct.submissions)
    found = _class(tmp_path / "mixed", 4, slow=True)
    mixed, mixed_time = _timed(found, options)
    by_id = {s.id: s for s in mixed.submissions}
    assert sorted(by_id) == sorted(s.id for s in found)
    assert all(s.score == s.max_score for sid, s in by_id.items() if sid != "slow")
    slow = by_id["slow"]
    lost = [t for t in slow.tests if t.outcome != "passed"]
    assert slow.status == "graded" and slow.score < slow.max_score and lost
    assert all(SPENT.format(3) in t.message for t in lost), [t.message for t in lost]
    assert all(t.outcome == "timeout" for t in lost)
    # The slow submission is waited on for at most its 3 s (plus the forks and imports of the
    # children it needs); the margin is for noisy machines.
    assert mixed_time < correct_time + 3 + 10, (mixed_time, correct_time)


def test_changing_the_budget_changes_the_run_key() -> None:
    from grader import pipeline

    base = GradeOptions(exercises=("activations",))
    assert pipeline.header_for(["a"], base, None).key() != pipeline.header_for(
        ["a"], dataclasses.replace(base, submission_timeout=5.0), None).key()
