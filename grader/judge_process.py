"""The judge processes of a run, and the one a `grade run` starts before anything else.

A judge spends about a quarter of a second importing pytest, NumPy and the judge before it can
take a shard; a run on one submission (a course platform's, or one shard of a class) would wait
for it. So the command line starts one judge first thing, before its own imports and checks
(see grader.launch), and the run takes it over (grader.engine.Judges): the judge's imports then
overlap the rest of the run's start.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader import paths

#: Commands of `grade` that never start a judge of their own.
NOT_GRADING = frozenset({"check", "course", "gradescope-package", "handout", "merge",
                         "new-exercise"})


class JudgeProcess:
    """One judge process: shards go in as manifest paths, exit codes come back."""

    def __init__(self, judge_dir: Path, on_done: Callable[[str], None]) -> None:
        progress_read, self.progress_fd = os.pipe()
        control_read, control_write = os.pipe()
        log_fd, log_name = tempfile.mkstemp(prefix="output-", suffix=".txt", dir=judge_dir)
        self._log = Path(log_name)
        with os.fdopen(log_fd, "wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOTSTRAP, str(control_write),
                 str(Path(__file__).resolve().parent.parent), str(os.getpid())],
                pass_fds=[self.progress_fd, control_write], stdin=subprocess.PIPE, stdout=log,
                stderr=subprocess.STDOUT, env=_judge_env(), cwd=str(judge_dir))
        os.close(control_write)
        self._control = os.fdopen(control_read, "r", encoding="utf-8")
        self._relay = threading.Thread(target=_relay_progress, args=(progress_read, on_done),
                                       daemon=True)
        self._relay.start()

    def run(self, manifest: Path) -> int | None:
        """Have the judge run one shard; its pytest exit code, or None if the judge died."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(f"{manifest}\n".encode())
            self._proc.stdin.flush()
        except BrokenPipeError:
            return None
        line = self._control.readline()
        return int(line) if line.strip().lstrip("-").isdigit() else None

    def discard(self) -> None:
        """End a judge that was never given a shard: nothing of it is worth waiting for."""
        self._proc.kill()
        self.close()

    def close(self) -> tuple[int, str]:
        """End the judge; its exit code and the tail of its output."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.close()
        except BrokenPipeError:
            pass
        code = self._proc.wait()
        self._control.close()
        os.close(self.progress_fd)
        self._relay.join()
        return code, self._log.read_bytes()[-4000:].decode("utf-8", "replace")


# The kernel's parent-death signal is asked for first, before the imports, and the parent is
# checked to be the one that started it: a run killed while its judge was still importing
# leaves no judge behind (prctl(1, 9) is PR_SET_PDEATHSIG with SIGKILL).
_BOOTSTRAP = ("import ctypes, os, sys\n"
              "if sys.platform.startswith('linux'): ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)\n"
              "if os.getppid() != int(sys.argv[3]): os._exit(1)\n"
              "sys.path.insert(0, sys.argv[2])\n"
              "from grader.judge import runner\n"
              "sys.exit(runner.serve(int(sys.argv[1])))\n")


def _relay_progress(fd: int, on_done: Callable[[str], None]) -> None:
    with os.fdopen(fd, "r", encoding="utf-8") as stream:
        for line in stream:
            on_done(line.rstrip("\n"))


def _judge_env() -> dict[str, str]:
    """A clean environment: no PYTEST_ADDOPTS, no PYTHONPATH, no autoloaded plugins."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    for name in ("HOME", paths.COURSE_VARIABLE):  # the course chosen with --course, if any
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class Relay:
    """Where a judge's progress goes: set once the run that takes the judge over is known."""

    def __init__(self) -> None:
        self.to: Callable[[str], None] = lambda _id: None

    def __call__(self, submission_id: str) -> None:
        self.to(submission_id)


@dataclass
class Early:
    """The judge a `grade run` started first thing, and its run's work folder."""

    workdir: Path
    """The run's work folder (grader-PID-...), the judge's folder inside it."""
    judge: JudgeProcess
    """The judge, not given any shard yet."""
    relay: Relay
    """Its progress, forwarded to whoever takes it over."""


_EARLY: Early | None = None


def workdir() -> Path:
    """A new work folder for this process's run, named so that a later run can tell that it
    was abandoned (grader.engine removes those of processes no longer alive)."""
    return Path(tempfile.mkdtemp(prefix=f"grader-{os.getpid()}-"))


def judge_dir(work: Path, number: int) -> Path:
    """The folder of judge `number` in a run's work folder."""
    folder = work / f"judge-{number}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def start_early(argv: list[str]) -> None:
    """Start one judge now when argv asks `grade` to grade here; the run takes it over."""
    global _EARLY
    if _EARLY is not None or not _grades_here(argv):
        return
    work = workdir()
    relay = Relay()
    try:
        _EARLY = Early(work, JudgeProcess(judge_dir(work, 0), relay), relay)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
        return
    atexit.register(_discard_early)


def take_early() -> Early | None:
    """The judge started early, for the run to use; None if there is none."""
    global _EARLY
    early, _EARLY = _EARLY, None
    return early


def _discard_early() -> None:
    """A run that stopped before grading (a usage error, a refused host) never took it."""
    early = take_early()
    if early is not None:
        early.judge.discard()
        shutil.rmtree(early.workdir, ignore_errors=True)


def _grades_here(argv: list[str]) -> bool:
    """Whether argv is a `grade run` (or `grade gradescope`) that grades on this machine with
    the course of the environment.

    With --course, the judge must see the course in its environment, which is only set while
    the command line is parsed; on Windows, grading refuses to start; with Dask, the workers
    grade.
    """
    if not argv or sys.platform == "win32" or argv[0] in NOT_GRADING:
        return False
    pairs = {f"{a}={b}" for a, b in zip(argv, argv[1:])} | set(argv)
    other = {"--help", "-h", "--version", "--executor=dask"} & pairs
    return not other and not any(a == "--course" or a.startswith("--course=") for a in argv)
