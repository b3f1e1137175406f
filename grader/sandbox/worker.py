"""The sandbox worker: a warm zygote that forks one isolated child per submission.

Started by the judge as `python -I` with a control socket. It imports numpy once, then for each
`spawn` request forks a child that isolates itself (grader.sandbox.isolation), loads the student's
modules from source text and answers calls over its own socket (grader.sandbox.child). The zygote
itself never runs student code; it only forks, kills and reaps.
"""

from __future__ import annotations

import os

# Set before numpy loads: one BLAS thread per child, so RLIMIT_NPROC and the CPU budget hold.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import ctypes  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy  # noqa: E402,F401  (imported once here so every child starts warm)

# Modules a student may reasonably import, loaded before the child loses access to the files
# of the Python installation (it runs as another uid, which may not read them: a Python under
# /root, for example). Anything else a student imports may fail with ModuleNotFoundError.
WARM_MODULES = (
    "math", "cmath", "random", "statistics", "functools", "itertools", "collections",
    "collections.abc", "typing", "dataclasses", "decimal", "fractions", "operator", "copy",
    "time", "re", "numbers", "enum", "string", "textwrap", "json", "heapq", "bisect",
    "numpy.random", "numpy.linalg", "numpy.fft", "numpy.polynomial", "numpy.ma",
    "numpy.testing", "numpy.typing", "unittest", "warnings", "inspect", "glob", "pathlib", "io", "struct",
    "socket", "encodings.idna", "threading", "subprocess", "ctypes", "atexit", "signal",
)
for _name in WARM_MODULES:
    try:
        __import__(_name)
    except ImportError:
        pass

from grader.sandbox import child, isolation, protocol  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36


def main(control_fd: int) -> None:
    """Serve spawn/kill/reap requests on the control socket until it closes."""
    isolation.die_with_parent()
    control = socket.socket(fileno=control_fd)
    _become_subreaper()
    live: dict[int, object] = {}
    while True:
        try:
            header, _ = protocol.recv_frame(control)
        except (EOFError, ConnectionError):
            break
        op = header.get("op")
        if op == "spawn":
            reply = _spawn(control, header)
            if "pid" in reply:
                live[reply["pid"]] = header["plan"]["uid"]
        elif op == "kill":
            reply = _kill(int(header["pid"]), header.get("uid"))
            live.pop(int(header["pid"]), None)
        else:
            reply = {"error": f"unknown op {op!r}"}
        protocol.send_frame(control, reply)
    # The judge went away (or finished without closing a session): leave nothing running.
    for pid, uid in live.items():
        _kill(pid, uid)


def _become_subreaper() -> None:
    # Orphaned grandchildren of a student process come back to us, so we can reap them.
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _spawn(control: socket.socket, header: dict[str, Any]) -> dict[str, Any]:
    _, fds, _, _ = socket.recv_fds(control, 1, 1)
    if len(fds) != 1:
        return {"error": "spawn without a channel"}
    plan = _plan_from(header["plan"])
    sources = {str(k): str(v) for k, v in header["modules"].items()}
    pid = os.fork()
    if pid == 0:  # the child: never returns
        control.close()
        child.run(fds[0], sources, plan)
        os._exit(0)
    os.close(fds[0])
    return {"pid": pid}


def _plan_from(raw: dict[str, Any]) -> isolation.Plan:
    limits = isolation.Limits(**raw["limits"])
    return isolation.Plan(uid=raw["uid"], hide=tuple(raw["hide"]), scratch=raw["scratch"],
                          limits=limits)


def _kill(pid: int, uid: object) -> dict[str, Any]:
    """Kill the child and everything it started, then reap it and report how it ended."""
    if isinstance(uid, int) and os.geteuid() == 0:
        _kill_uid(uid)
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    status = _reap(pid)
    _reap_orphans()
    return status


def _kill_uid(uid: int) -> None:
    # kill(-1) from a process that runs as the sandbox uid reaches every process of that uid,
    # even ones that left the child's process group or session.
    helper = os.fork()
    if helper == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(100):
                os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        os._exit(0)
    os.waitpid(helper, 0)


def _reap(pid: int) -> dict[str, Any]:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return {"exit": None, "signal": None}
    if os.WIFSIGNALED(status):
        return {"exit": None, "signal": os.WTERMSIG(status)}
    return {"exit": os.WEXITSTATUS(status), "signal": None}


def _reap_orphans(wait: float = 2.0) -> None:
    """Reap every process left in the child's tree; as subreaper, all of them are ours.

    They were just sent SIGKILL, so they die within moments; the bound only guards against
    one that escaped the kill (it is then left to the final kill when the worker exits).
    """
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.001)


if __name__ == "__main__":
    main(int(sys.argv[1]))
