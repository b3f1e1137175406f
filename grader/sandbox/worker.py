"""The sandbox worker: a warm zygote that forks one isolated child per submission.

Started by the judge as `python -I` with a control socket. It imports numpy once, then for each
`spawn` request forks a child that isolates itself (grader.sandbox.isolation), loads the student's
modules from source text and answers calls over its own socket (grader.sandbox.child). The zygote
itself never runs student code; it only forks, kills and reaps.

Killing every process of a sandbox uid is done by the killer (grader.sandbox.killer), a small
root process the worker forks before it imports numpy.
"""

from __future__ import annotations

import os

# Set before numpy loads: one BLAS thread per child, so RLIMIT_NPROC and the CPU budget hold.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import ctypes  # noqa: E402
import gc  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

# Standard library only: the worker is still small when it forks the killer (see main).
from grader.sandbox import isolation  # noqa: E402
from grader.sandbox.killer import Killer, kill_as, start_killer  # noqa: E402

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

PR_SET_CHILD_SUBREAPER = 36
#: Seconds a kill waits for the processes it killed to be reaped: only one stuck in the kernel
#: takes that long (it is then reaped by a later kill, or when the worker exits).
REAP_WAIT = 2.0
@dataclass
class Children:
    """The sandbox children of this worker, by pid."""

    live: dict[int, object] = field(default_factory=dict)
    """Sandbox uid (None without root) of every child not killed yet."""
    ended: dict[int, int] = field(default_factory=dict)
    """Wait status of a live child that was reaped while another child's tree was being reaped
    (it died on its own): its own kill reports it."""


def main(control_fd: int) -> None:
    """Serve spawn/kill/reap requests on the control socket until it closes."""
    isolation.die_with_parent()  # also loads the C library once, for every child to inherit
    isolation.set_name("grade-sandbox")
    killer = start_killer(control_fd)  # before numpy: each of its forks copies its page tables
    _warm_up()
    from grader.sandbox import protocol  # imports numpy: only once the killer is forked

    control = socket.socket(fileno=control_fd)
    _become_subreaper()
    children = Children()
    while True:
        try:
            header, blobs = protocol.recv_frame(control)
        except (EOFError, ConnectionError):
            break
        op = header.get("op")
        if op == "spawn":
            reply = _spawn(control, killer, header)
            if "pid" in reply:
                children.live[reply["pid"]] = header["plan"]["uid"]
        elif op == "kill":
            reply = _kill(int(header["pid"]), header.get("uid"), killer, children)
        elif op == "plan":
            reply = _plan(int(header["first"]), blobs)
        else:
            reply = {"error": f"unknown op {op!r}"}
        protocol.send_frame(control, reply)
    # The judge went away (or finished without closing a session): leave nothing running.
    for pid, uid in list(children.live.items()):
        _kill(pid, uid, killer, children)
    if killer is not None:
        killer.stop()


def _warm_up() -> None:
    """Import numpy, the child's code and what students may import, so every child starts warm."""
    import numpy  # noqa: F401

    import grader.sandbox.child  # noqa: F401
    from grader.sandbox import view

    view.sources()  # worked out once here: every child inherits the list
    for name in WARM_MODULES:
        try:
            __import__(name)
        except ImportError:
            pass
    # Out of the collector's sight from now on: a full collection would otherwise walk every
    # warm object again, in the worker and in each child, where every page it writes to is
    # copied (copy-on-write) first.
    gc.freeze()


def _become_subreaper() -> None:
    # Orphaned grandchildren of a student process come back to us, so we can reap them.
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _plan(first: int, frames: list[bytes]) -> dict[str, Any]:
    """Decode the judge's planned calls once, for every child forked from now on."""
    from grader.sandbox import child, protocol

    try:
        child.prepare(first, frames)
    except (protocol.ProtocolError, KeyError, TypeError, ValueError) as exc:
        return {"error": f"bad plan: {exc}"}
    gc.freeze()  # like the warm-up: children inherit the plan without the collector's writes
    return {"ok": True}


def _spawn(control: socket.socket, killer: Killer | None,
           header: dict[str, Any]) -> dict[str, Any]:
    from grader.sandbox import child  # imported by _warm_up already

    _, fds, _, _ = socket.recv_fds(control, 1, 1)
    if len(fds) != 1:
        return {"error": "spawn without a channel"}
    plan = isolation.plan_from_dict(header["plan"])
    sources = {str(k): str(v) for k, v in header["modules"].items()}
    pid = os.fork()
    if pid == 0:  # the child: never returns
        control.close()
        if killer is not None:  # student code must never be able to ask for a kill
            killer.requests.close()
        child.run(socket.socket(fileno=fds[0]), sources, plan)
        os._exit(0)
    os.close(fds[0])
    return {"pid": pid}


def _kill(pid: int, uid: object, killer: Killer | None,
          children: Children) -> dict[str, Any]:
    """Kill the child and everything it started, then reap them and report how the child ended."""
    # The child first, from root: it tears down its memory while the rest of its uid is killed.
    for target in (pid, -pid):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    owner = uid if isinstance(uid, int) and uid > 0 and os.geteuid() == 0 else None
    if owner is not None and not (killer is not None and killer.kill(owner)):
        kill_as(owner, None)  # no killer (it failed to start, or died): a helper forked here
    children.live.pop(pid, None)
    status = _reap(pid, children)
    _reap_tree(owner, children)
    return status


def _reap(pid: int, children: Children) -> dict[str, Any]:
    status = children.ended.pop(pid, None)
    if status is None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return {"exit": None, "signal": None}
    if os.WIFSIGNALED(status):
        return {"exit": None, "signal": os.WTERMSIG(status)}
    return {"exit": os.WEXITSTATUS(status), "signal": None}


def _reap_tree(uid: int | None, children: Children) -> None:
    """Reap every process left of a killed child's tree; as subreaper, all of them come to us.

    They were just sent SIGKILL, so this waits only for the kernel to tear them down. Children
    of other sessions may be alive meanwhile: the tree is told apart from them by its uid.
    """
    deadline = time.monotonic() + REAP_WAIT
    while _reap_exited(children) and time.monotonic() < deadline:
        if not _wait_for_tree(uid, children, deadline):
            return


def _reap_exited(children: Children) -> bool:
    """Reap every child that has exited; return whether any child is left."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True
        if pid in children.live:  # another session's child died on its own: keep its status
            children.ended[pid] = status


def _wait_for_tree(uid: int | None, children: Children, deadline: float) -> bool:
    """Wait until a process of the tree exits; return False when none is left to wait for."""
    if uid is None or not sys.platform.startswith("linux"):  # no uid, or no /proc to find it in
        # Then the tree looks like any other child: wait for all of them, unless another
        # session has a live child (it would hold us until the deadline).
        if children.live:
            return False
        time.sleep(0.001)
        return True
    left = _processes_of(uid)
    # Killed again from root, which nothing of the student's can stop or block: whatever
    # escaped the helper (one stopped by the student, one forked meanwhile) goes now.
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return bool(left) and _wait_exit(left, deadline)


def _processes_of(uid: int) -> list[int]:
    """Pids of the processes (zombies included) whose effective uid is `uid`.

    Cheaper than reading every /proc/PID/status: a /proc/PID directory belongs to the effective
    uid of its process, even a process that made itself non-dumpable.
    """
    found = []
    with os.scandir("/proc") as entries:
        for entry in entries:
            try:
                if entry.name.isdigit() and entry.stat(follow_symlinks=False).st_uid == uid:
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile
                continue
    return found


def _wait_exit(pids: list[int], deadline: float) -> bool:
    """Wait until each of `pids` has exited; return whether any of them was still running (so
    reaping again may find more), False at the deadline. If all were zombies already, reaping
    found nothing to reap: they are not (yet) the worker's, so waiting longer cannot help."""
    fds = _pidfds(pids)
    if fds is None:  # no pidfd (Linux < 5.3): poll
        time.sleep(0.001)
        return True
    try:
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)  # readable once that process has exited
        running = set(fds) - {fd for fd, _ in poller.poll(0)}
        for fd in set(fds) - running:
            poller.unregister(fd)
        waited = bool(running)
        while running:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                return False
            for fd, _ in poller.poll(timeout * 1000):
                running.discard(fd)
                poller.unregister(fd)
        return waited
    finally:
        for fd in fds:
            os.close(fd)


def _pidfds(pids: list[int]) -> list[int] | None:
    fds: list[int] = []
    for pid in pids:
        try:
            fds.append(os.pidfd_open(pid))
        except ProcessLookupError:  # reaped meanwhile
            continue
        except OSError:
            for fd in fds:
                os.close(fd)
            return None
    return fds
