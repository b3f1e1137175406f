"""`grade run` starts its first judge before anything else (grader.judge_process); a run that
stops early, by a usage error or by SIGKILL while that judge is still importing, leaves neither
the judge nor its work folder behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from grader import judge_process
from tests.procs import processes

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "submissions"


def judges_of(parent: int) -> list[int]:
    """Live judge processes started by `parent` (the judge's last argument is its parent)."""
    return [p.pid for p in processes() if not p.zombie and b"grader.judge" in p.cmdline
            and p.cmdline.rstrip(b"\0").rsplit(b"\0", 1)[-1] == str(parent).encode()]


def gone_within(seconds: float, parent: int) -> bool:
    deadline = time.monotonic() + seconds
    while judges_of(parent):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_only_a_run_that_grades_here_starts_one() -> None:
    grades = judge_process._grades_here
    assert grades(["subs", "--out", "o"]) and grades(["run", "subs"]) and grades(["gradescope"])
    assert grades(["subs", "--executor", "local"])
    for argv in ([], ["check"], ["merge", "a"], ["handout"], ["subs", "--executor", "dask"],
                 ["subs", "--executor=dask"], ["subs", "--course", "c"], ["subs", "--course=c"],
                 ["--help"], ["run", "-h"], ["--version"]):
        assert not grades(argv), argv


def test_a_usage_error_leaves_no_judge_and_no_work_folder(tmp_path: Path) -> None:
    run = subprocess.Popen([sys.executable, "-m", "grader", str(tmp_path / "missing"), "--out",
                            str(tmp_path / "out")], stderr=subprocess.PIPE, text=True)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 2
    assert stderr == f"grade: error: {tmp_path / 'missing'}: no such file or folder\n"
    assert gone_within(5, run.pid)
    assert list(Path("/tmp").glob(f"grader-{run.pid}-*")) == []


def test_a_run_killed_while_its_judge_imports_leaves_no_judge(tmp_path: Path) -> None:
    run = subprocess.Popen([sys.executable, "-m", "grader", str(SAMPLE), "--out",
                            str(tmp_path / "out")], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not judges_of(run.pid):
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert gone_within(5, run.pid)
