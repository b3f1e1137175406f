"""Judge side of the sandbox: starts the worker, hands it the planned calls, and opens one
session per submission (grader.sandbox.session), whose child the worker forks and kills."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.sandbox import protocol
from grader.sandbox.answers import MapRequest
from grader.sandbox.host import FIRST_UID, can_switch_uid
from grader.sandbox.isolation import Limits, Plan
from grader.sandbox.session import Session

#: Children one Sandbox may run side by side, each under a uid of its own.
MAX_SLOTS = 64


@dataclass(frozen=True)
class SandboxConfig:
    """How student code is confined."""

    timeout: float = 2.0
    """Seconds one call may take before the child is killed."""
    submission_timeout: float = 30.0
    """Seconds one submission's session may spend waiting on its children, all calls together."""
    memory_bytes: int = 1 << 30
    """Address-space limit per submission."""
    hide: tuple[str, ...] = ()
    """Folders the child must not see (reference, suites, submissions, outputs, work folder)."""
    workdir: str = "/tmp"
    """The grader's private work folder; hidden from the child, which gets a scratch folder in it."""


class Sandbox:
    """One warm worker process; forks a child per submission session."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        # A block of uids per judge process: one per slot, so killing "every process of this
        # uid" reaches one child's tree and never a neighbour's.
        # Tried, not assumed from the uid: a root in a user namespace cannot switch uid.
        first = FIRST_UID + (os.getpid() % 50_000) * MAX_SLOTS
        self.uid = first if hasattr(os, "fork") and can_switch_uid(first) else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._spawned = 0
        self.isolation: tuple[str, ...] | None = None
        self._planned: list[MapRequest] = []
        """Requests the worker is to decode once (see prepare), in index order."""
        self._plan_index: dict[int, int] = {}  # id() of a request in _planned -> its index
        self._worker_plans = 0  # how many of _planned the running worker holds

    def start(self) -> None:
        """Start the worker now rather than at the first child: it warms up (imports NumPy)
        while the caller does other work."""
        self._start()

    def _start(self) -> socket.socket:
        if self._control is not None:
            return self._control
        ours, theirs = socket.socketpair()
        package_parent = str(Path(__file__).resolve().parents[2])
        bootstrap = ("import sys; sys.path.insert(0, sys.argv[2]); "
                     "from grader.sandbox import worker; worker.main(int(sys.argv[1]))")
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", bootstrap, str(theirs.fileno()), package_parent],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("GRADER_DEBUG") else subprocess.DEVNULL, env=_clean_env(), cwd="/", start_new_session=True,
        )
        theirs.close()
        self._control = ours
        self._worker_plans = 0
        if self._planned:  # a new worker: it learns the planned calls before its first fork
            self._send_plan()
        return ours

    def prepare(self, requests: list[MapRequest]) -> None:
        """Have the worker decode these requests once, before it forks children: a child then
        answers them without reading a byte of their calls (see request_frame)."""
        for request in requests:
            if id(request) not in self._plan_index:
                self._plan_index[id(request)] = len(self._planned)
                self._planned.append(request)
        if self._control is not None and self._worker_plans < len(self._planned):
            self._send_plan()

    def _send_plan(self) -> None:
        first = self._worker_plans
        frames = [r.frame for r in self._planned[first:]]
        if self._request({"op": "plan", "first": first}, blobs=frames).get("ok"):
            self._worker_plans = len(self._planned)

    def planned_index(self, request: MapRequest) -> int | None:
        """The index under which the running worker holds `request` decoded, if it does."""
        index = self._plan_index.get(id(request))
        return index if index is not None and index < self._worker_plans else None

    def request_frame(self, request: MapRequest) -> bytes:
        """What to send a child for `request`: a short reference to the worker's decoded copy
        if it has one, else the request itself."""
        index = self.planned_index(request)
        if index is None:
            return request.frame
        return protocol.encode_frame({"op": "planned", "index": index})

    def _request(self, header: dict[str, Any], fd: int | None = None,
                 blobs: list[bytes] = []) -> dict[str, Any]:
        control = self._start()
        protocol.send_frame(control, header, blobs)
        if fd is not None:
            socket.send_fds(control, [b"F"], [fd])
        reply, _ = protocol.recv_frame(control)
        return reply

    def _uid(self, slot: int) -> int | None:
        if not 0 <= slot < MAX_SLOTS:
            raise ValueError(f"slot {slot} is outside 0..{MAX_SLOTS - 1}")
        return None if self.uid is None else self.uid + slot

    def spawn(self, sources: dict[str, str], slot: int = 0) -> tuple[int, socket.socket]:
        """Fork a fresh isolated child holding `sources`; return its pid and channel."""
        ours, theirs = socket.socketpair()
        self._spawned += 1
        scratch = os.path.join(self.config.workdir, "scratch", str(self._spawned))
        plan = Plan(uid=self._uid(slot), hide=self.config.hide, scratch=scratch,
                    limits=self._limits(), void=self._void())
        header = {"op": "spawn", "modules": sources, "plan": _plan_dict(plan)}
        try:
            reply = self._request(header, theirs.fileno())
        finally:
            theirs.close()
        return int(reply["pid"]), ours

    def _void(self) -> str:
        """The empty root of children on hosts without mount namespaces (see Plan.void)."""
        void = os.path.join(self.config.workdir, "void")
        if not os.path.isdir(void):
            os.makedirs(void, mode=0o755, exist_ok=True)
            os.chmod(void, 0o755)
        return void

    def _limits(self) -> Limits:
        cpu = int(max(30, self.config.timeout * 20))
        return Limits(memory_bytes=self.config.memory_bytes, cpu_seconds=cpu,
                      file_bytes=16 << 20, open_files=64, processes=16)

    def kill(self, pid: int, slot: int = 0) -> dict[str, Any]:
        """Kill a child and its whole process tree; return how it ended (exit code or signal)."""
        return self._request({"op": "kill", "pid": pid, "uid": self._uid(slot)})

    def close(self) -> None:
        """Stop the worker; it reaps anything left before it exits."""
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
            self._proc = None

    def open(self, sources: dict[str, str], slot: int = 0) -> Session:
        """A session for one submission; its child is forked on first use.

        Sessions open at the same time need different slots (0..MAX_SLOTS-1).
        """
        return Session(self, sources, slot)


def _plan_dict(plan: Plan) -> dict[str, Any]:
    return {"uid": plan.uid, "hide": list(plan.hide), "scratch": plan.scratch,
            "limits": asdict(plan.limits), "void": plan.void}


def _clean_env() -> dict[str, str]:
    """Only what Python needs: nothing from the caller's environment steers the worker."""
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
