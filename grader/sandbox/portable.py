"""A sandbox for machines that cannot fork a warm worker (Windows): one plain Python process per
child, started afresh, talking over a loopback socket.

Used only for a student's own check of their own work (`grade check`): the calls keep their
time limits (the judge kills a child that runs over) and the child still never shares a process
with pytest, but nothing confines what the code may touch. The isolation steps the child
reports say so, and the check warns.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from grader.sandbox import protocol
from grader.sandbox.client import Sandbox, SandboxConfig, _plan_dict
from grader.sandbox.session import HELLO_TIMEOUT
from grader.sandbox.isolation import Plan

_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv[1]); "
              "from grader.sandbox import portable; portable.child_main()")


class PortableSandbox(Sandbox):
    """Sandbox whose children are new Python processes instead of forks of a warm worker."""

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(config)
        self.uid = None  # no uid to switch to: the child runs as the user
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def spawn(self, sources: dict[str, str], slot: int = 0) -> tuple[int, socket.socket]:
        """Start a child holding `sources`; return its pid and channel."""
        self._uid(slot)  # the same slot check as the forking sandbox
        self._spawned += 1
        scratch = os.path.join(self.config.workdir, "scratch", str(self._spawned))
        plan = Plan(uid=None, hide=self.config.hide, scratch=scratch, limits=self._limits())
        token = secrets.token_hex(16)
        with socket.create_server(("127.0.0.1", 0)) as listener:
            listener.settimeout(HELLO_TIMEOUT)
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOTSTRAP, str(Path(__file__).resolve().parents[2])],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=_child_env())
            self._children[proc.pid] = proc
            assert proc.stdin is not None
            orders = {"port": listener.getsockname()[1], "token": token, "modules": sources,
                      "plan": _plan_dict(plan)}
            try:
                proc.stdin.write(json.dumps(orders).encode())
                proc.stdin.close()
                chan = self._accept(listener, token)
            except (OSError, TimeoutError, EOFError, protocol.ProtocolError) as exc:
                self.kill(proc.pid, slot)
                raise RuntimeError(f"the check could not start Python: {exc}") from None
        return proc.pid, chan

    @staticmethod
    def _accept(listener: socket.socket, token: str) -> socket.socket:
        # Anything on this machine may connect to a loopback port: only the child knows the token.
        while True:
            chan, _ = listener.accept()
            try:
                chan.settimeout(HELLO_TIMEOUT)
                first, _ = protocol.recv_frame(chan)
            except (OSError, EOFError, protocol.ProtocolError):
                chan.close()
                continue
            if secrets.compare_digest(str(first.get("token", "")), token):
                chan.settimeout(None)
                return chan
            chan.close()

    def start(self) -> None:
        """Nothing to start: there is no worker."""

    def kill(self, pid: int, slot: int = 0) -> dict[str, Any]:
        """Kill a child; return how it ended (exit code or signal)."""
        proc = self._children.pop(pid, None)
        if proc is None:
            return {}
        proc.kill()
        code = proc.wait()
        return {"signal": -code} if code < 0 else {"exit": code}

    def close(self) -> None:
        """Kill every child still running."""
        for pid in list(self._children):
            self.kill(pid)


def _child_env() -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    # Windows needs these for sockets and temporary files to work at all.
    for name in ("SYSTEMROOT", "SystemRoot", "TEMP", "TMP"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def child_main() -> None:
    """Entry point of a portable child: read its orders, connect back, then serve as any child."""
    from grader.sandbox import child, isolation

    orders = json.loads(sys.stdin.buffer.read())
    chan = socket.create_connection(("127.0.0.1", int(orders["port"])), timeout=HELLO_TIMEOUT)
    chan.settimeout(None)
    protocol.send_frame(chan, {"token": orders["token"]})
    sources = {str(k): str(v) for k, v in orders["modules"].items()}
    child.run(chan, sources, isolation.plan_from_dict(orders["plan"]))
