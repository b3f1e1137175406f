"""Killing every process of a sandbox uid, from a small root process.

kill(-1) sent by a process running as the sandbox uid reaches every process of that uid, even
ones that left the child's process group or session. Such a helper is forked for each kill;
forking it from the worker would copy the worker's page tables (numpy and friends) every time,
so helpers are forked by the killer, a small root process the worker forks before it imports
numpy. Standard library only, for the same reason.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass

from grader.sandbox import isolation

#: kill(-1) calls per helper: a margin, as one call should already reach every process of the
#: uid (the kernel signals them all under one lock, and a fork by a killed process fails).
KILL_REPEATS = 100
#: Seconds a kill helper may take before root kills it instead.
HELPER_WAIT = 1.0



@dataclass(frozen=True)
class Killer:
    """The worker's small root child that runs the kill helpers (see the module docstring)."""

    pid: int
    requests: socket.socket
    """Takes a uid (4 bytes); answers b"k" once every process of that uid was sent SIGKILL."""

    def kill(self, uid: int) -> bool:
        """Have every process of `uid` sent SIGKILL; False if the killer could not."""
        try:
            self.requests.send(uid.to_bytes(4, "little"))
            return self.requests.recv(1) == b"k"
        except OSError:  # it died
            return False

    def stop(self) -> None:
        """Let the killer exit, and reap it."""
        self.requests.close()
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:  # it died earlier and was reaped then
            pass


@dataclass(frozen=True)
class Helper:
    """A root process forked ahead of a kill, waiting on a pipe for the uid to kill as."""

    pid: int
    go: int
    """Write end of its pipe: the uid (4 bytes) starts it, EOF dismisses it."""

    def run(self, uid: int) -> bool:
        """Have every process of `uid` sent SIGKILL; return once the helper has exited, True
        if it did its job."""
        try:
            os.write(self.go, uid.to_bytes(4, "little"))
        except OSError:  # it died
            pass
        return self.dismiss() == 0

    def dismiss(self) -> int:
        """Close its pipe (an idle helper exits on EOF) and reap it; return its exit code.

        Once it runs as the sandbox uid, a student's process can stop it (kill(-1, SIGSTOP)):
        it gets HELPER_WAIT seconds, then root kills it, and the sweep in _reap_tree does
        its job.
        """
        os.close(self.go)
        if not _exits_within(self.pid, HELPER_WAIT):
            os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def _exits_within(pid: int, seconds: float) -> bool:
    """Whether our child `pid` exits within `seconds` (it is left to be reaped)."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:  # no pidfd (Linux < 5.3): poll
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
            time.sleep(0.001)
        return False
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)  # readable once the process has exited
        return bool(poller.poll(seconds * 1000))
    finally:
        os.close(fd)


def kill_as(uid: int, inherited: socket.socket | None) -> bool:
    """Fork a helper and have it kill every process of `uid`; True if it did."""
    helper = _fork_helper(inherited)
    return helper is not None and helper.run(uid)


def _fork_helper(inherited: socket.socket | None) -> Helper | None:
    try:
        read_end, go = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(go)
        return None
    if pid == 0:  # the helper: never returns
        done = False
        try:
            os.close(go)
            if inherited is not None:  # it needs nothing of its parent's
                inherited.close()
            uid = os.read(read_end, 4)
            done = len(uid) == 4 and _kill_all_of(int.from_bytes(uid, "little"))
        finally:
            os._exit(0 if done else 1)
    os.close(read_end)
    return Helper(pid, go)


def _kill_all_of(uid: int) -> bool:
    # kill(-1) from a process that runs as the sandbox uid reaches every process of that uid,
    # even ones that left the child's process group or session.
    if uid <= 0:  # never as root: kill(-1) from root reaches every process on the machine
        return False
    try:
        os.setgid(uid)
        os.setuid(uid)
    except OSError:
        return False
    for _ in range(KILL_REPEATS):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:  # no process left to signal
            break
    return True


def start_killer(control_fd: int) -> Killer | None:
    """Fork the killer (None without root, where there is no uid to kill).

    It exits when the worker's end of its socket closes, or with the worker.
    """
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return None
    try:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the killer: never returns
        try:
            ours.close()
            os.close(control_fd)  # the judge must see EOF when the worker dies
            isolation.die_with_parent()
            isolation.set_name("grade-killer")
            _serve_kills(theirs)
        finally:
            os._exit(0)
    theirs.close()
    return Killer(pid, ours)


def _serve_kills(requests: socket.socket) -> None:
    """The killer's loop: for each uid the worker sends, run a helper, then acknowledge.

    Each helper is forked ahead, right after the previous acknowledgement, while the worker
    reaps and the judge carries on: a kill only waits for the helper to run and exit.
    """
    helper = _fork_helper(requests)
    while True:
        try:
            uid = requests.recv(4)
        except OSError:
            uid = b""
        if len(uid) != 4:  # the worker is gone
            if helper is not None:
                helper.dismiss()
            return
        done = helper is not None and helper.run(int.from_bytes(uid, "little"))
        requests.send(b"k" if done else b"x")
        helper = _fork_helper(requests)
