"""A grade run killed with SIGKILL halfway leaves no half-written output and no process behind,
and running the same command again reuses the parts it had finished and completes the class.

The test adopts the killed run's orphans (PR_SET_CHILD_SUBREAPER), so it looks only at the
processes of this run, whatever else the machine or the rest of the suite is doing; and it kills
when the run's first part is on disk, not after a guessed delay.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.procs import processes
from tests.test_cli import CORRECT_ACTIVATIONS

SLOW = CORRECT_ACTIVATIONS.replace("def tanh(z):\n    return np.tanh(z)",
                                   "import time\ndef tanh(z):\n    time.sleep(0.2)\n    return np.tanh(z)")
PR_SET_CHILD_SUBREAPER = 36
#: With --jobs 1 the engine makes a first shard of 32 submissions, then one of the rest.
FAST_COUNT, SLOW_COUNT = 32, 2


def command(subs: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "grader", str(subs), "--out", str(out), "--exercise",
            "activations", "--jobs", "1", "--no-timings", "--no-plots"]


@pytest.fixture
def adopted() -> Iterator[None]:
    """Orphans of this test's processes become this process's children, not init's."""
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        _reap()


def _reap() -> None:
    """Collect the exit status of adopted orphans that have ended."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def descendants() -> list[int]:
    """Live processes below this one (the adopted orphans included), zombies left out."""
    found = list(processes())
    children: dict[int, list[int]] = {}
    for p in found:
        children.setdefault(p.ppid, []).append(p.pid)
    alive = {p.pid for p in found if not p.zombie}
    below, todo = [], list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        below.append(pid)
        todo.extend(children.get(pid, []))
    return [pid for pid in below if pid in alive]


def test_sigkill_halfway_then_rerun(tmp_path: Path, adopted: None) -> None:
    # Children this process had already (a multiprocessing resource tracker that earlier tests
    # started lives as long as the test session) are not the run's.
    before = set(descendants())
    subs, out = tmp_path / "subs", tmp_path / "out"
    for n in range(FAST_COUNT + SLOW_COUNT):
        (subs / f"s{n:02d}").mkdir(parents=True)
        (subs / f"s{n:02d}" / "activations.py").write_text(
            SLOW if n >= FAST_COUNT else CORRECT_ACTIVATIONS)
    killed = subprocess.Popen(command(subs, out), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((out / ".parts").glob("*.jsonl")) and killed.poll() is None:
        assert time.monotonic() < deadline, "no part was written in two minutes"
        time.sleep(0.02)
    assert killed.poll() is None, "the run finished before it could be killed"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    deadline = time.monotonic() + 10
    while set(descendants()) - before and time.monotonic() < deadline:
        _reap()
        time.sleep(0.05)
    assert set(descendants()) - before == set()
    assert not (out / "results.json").exists()
    assert len(list((out / ".parts").glob("*.jsonl"))) == 1

    rerun = subprocess.Popen(command(subs, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    stdout, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, stderr
    assert f"reused {FAST_COUNT} of {FAST_COUNT + SLOW_COUNT} results (unchanged)" in stdout
    assert [line for line in stderr.splitlines() if "] graded " in line] == [
        f"[1/{SLOW_COUNT}] graded s{FAST_COUNT:02d}", f"[2/{SLOW_COUNT}] graded s{FAST_COUNT + 1:02d}"]
    results = json.loads((out / "results.json").read_text())
    assert [s["id"] for s in results["submissions"]] == [f"s{n:02d}" for n in range(34)]
    assert all(s["score"] == s["max_score"] > 0 for s in results["submissions"])
    assert [p.name for p in out.rglob(".*.tmp")] == []
    # The killed run's work folders (named by its pid) were removed by the rerun.
    for pid in (killed.pid, rerun.pid):
        assert list(Path("/tmp").glob(f"grader-{pid}-*")) == []
