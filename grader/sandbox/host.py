"""What this host really lets the sandbox do, found by trying it rather than assumed from the uid.

A root inside a user namespace (rootless Docker or Podman) cannot switch to another uid; Docker's
default profile refuses new namespaces; Ubuntu 24.04 refuses user namespaces to non-root users.
`probe` forks a throwaway child that isolates itself exactly as a sandbox child does and reports
which steps held; `require` turns that into a level and refuses to grade below the minimum asked
for, with one line saying what is missing and how to enable it.
"""

from __future__ import annotations

import functools
import json
import os
import select
import sys
import tempfile
from dataclasses import dataclass

from grader.sandbox import isolation

#: Isolation levels, weakest first (see level()).
LEVELS = ("limits", "files", "full")
#: The level a run needs unless told otherwise: student code cannot read the host's files.
DEFAULT_MINIMUM = "files"
#: First uid of the blocks the sandboxes use (see grader.sandbox.client).
FIRST_UID = 100_000
PROBE_TIMEOUT = 10.0


class IsolationRefused(Exception):
    """The host cannot give the isolation a run asks for; the message says how to fix it."""


@dataclass(frozen=True)
class HostIsolation:
    """What a sandbox child gets on this host."""

    steps: tuple[str, ...]
    """The isolation steps that held in the probe child."""
    level: str
    """One of LEVELS."""
    uid_switch: bool
    """Whether children can run under a dedicated uid (root that is really root)."""


def level(steps: tuple[str, ...] | list[str]) -> str:
    """full: own view, PID and network namespaces; files: nothing of the host's files is
    visible (the view, or an empty chroot); limits: resource limits only."""
    if {"view", "pidns", "netns"} <= set(steps):
        return "full"
    if "view" in steps or "chroot" in steps:
        return "files"
    return "limits"


@functools.cache
def can_switch_uid(uid: int = FIRST_UID) -> bool:
    """Whether this process may run a child as `uid` (a root that is not a fake root)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os._exit(0)
        except BaseException:  # noqa: BLE001 - any failure means no
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def probe() -> HostIsolation:
    """Isolate a throwaway child as a sandbox child would; return what held."""
    if not hasattr(os, "fork"):
        return HostIsolation((), "limits", False)
    switch = can_switch_uid()
    # Named like a run's work folder, so that a run killed meanwhile leaves nothing behind.
    with tempfile.TemporaryDirectory(prefix=f"grader-{os.getpid()}-probe-") as work:
        void = os.path.join(work, "void")
        os.mkdir(void, 0o755)
        plan = isolation.Plan(uid=FIRST_UID if switch else None, hide=(),
                              scratch=os.path.join(work, "scratch"), void=void,
                              limits=isolation.Limits(1 << 30, 30, 1 << 20, 64, 64))
        steps = _run_probe(plan)
    return HostIsolation(steps, level(steps), switch)


def _run_probe(plan: isolation.Plan) -> tuple[str, ...]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # never returns; in a PID namespace its stand-in exits as it does
        code = 1
        try:
            os.close(read_end)
            steps = isolation.isolate(plan).steps
            os.write(write_end, json.dumps(steps).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        data = b""
        while select.select([read_end], [], [], PROBE_TIMEOUT)[0]:
            chunk = os.read(read_end, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    try:
        return tuple(str(s) for s in json.loads(data))
    except ValueError:
        return ()


def require(found: HostIsolation, minimum: str) -> None:
    """Raise IsolationRefused, naming what is missing and how to enable it, when `found` is
    below `minimum`."""
    if LEVELS.index(found.level) >= LEVELS.index(minimum):
        return
    raise IsolationRefused(
        f"this host gives student code isolation '{found.level}' "
        f"({'+'.join(found.steps) or 'nothing'}), below the required '{minimum}': {_advice()}; "
        f"or pass --isolation-minimum {found.level} to grade anyway (see README, Where to run it)")


def _advice() -> str:
    """How to get namespaces on a host like this one."""
    if not sys.platform.startswith("linux"):
        return (f"{sys.platform} has no namespaces to confine student code with: grade on Linux "
                "(a VM or a container will do)")
    if os.geteuid() == 0 and not can_switch_uid():
        return ("in a rootless container (a user namespace) allow nested user namespaces, e.g. "
                "`docker run --security-opt seccomp=unconfined` or podman's default profile")
    if os.geteuid() == 0:
        return ("new namespaces are refused (Docker's default seccomp profile): run the "
                "container with `--security-opt seccomp=unconfined --cap-add SYS_ADMIN`, or "
                "as `--privileged`")
    return ("unprivileged user namespaces are disabled: enable them with "
            "`sysctl -w user.max_user_namespaces=15000` (and on Ubuntu 23.10+ "
            "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, or an AppArmor "
            "profile that allows userns for python), or run the grader as root")
