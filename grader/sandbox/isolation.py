"""Isolation steps a sandbox child applies to itself before it runs any student code.

Runs inside the forked child of the worker, so it imports only the standard library. Each step
that succeeds is named in the isolation level the judge records; a step the OS refuses is skipped
(a laptop without user namespaces still gets resource limits).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from dataclasses import dataclass
from typing import Any

try:  # imported here, while the files are still readable: the child may lose access later
    import resource
except ImportError:  # Windows has no rlimits
    resource = None  # type: ignore[assignment]

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_REC = 1 << 14
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
SIGKILL = 9


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandbox child (one submission)."""

    memory_bytes: int
    """Address-space limit: the student's process cannot map more than this."""
    cpu_seconds: int
    """Total CPU time for the child: a backstop behind the judge's per-call deadline."""
    file_bytes: int
    """Largest file the child may write into its private scratch folder."""
    open_files: int
    """Most file descriptors the child may hold."""
    processes: int
    """Most processes (and threads) the sandbox uid may own at once: stops fork bombs."""


@dataclass(frozen=True)
class Plan:
    """What to isolate: computed by the judge, carried out by the child on itself."""

    uid: int | None
    """Unprivileged uid (and gid) to switch to when running as root; None to keep the current one."""
    hide: tuple[str, ...]
    """Folders to cover with an empty tmpfs: reference, suites, other submissions, outputs."""
    scratch: str
    """Folder (one of the hidden ones, or a fresh one) that becomes the child's private cwd."""
    limits: Limits
    """Resource limits applied last."""


def plan_from_dict(raw: dict[str, Any]) -> Plan:
    """The Plan a judge sent as JSON (see grader.sandbox.client)."""
    return Plan(uid=raw["uid"], hide=tuple(raw["hide"]), scratch=raw["scratch"],
                limits=Limits(**raw["limits"]))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


# Built once at import: making ctypes types costs ~0.2 ms, paid in every child otherwise.
_CapDataPair = _CapData * 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, loaded once per process: the worker loads it (die_with_parent) before it
    forks, so a child finds it ready instead of looking for it again while it isolates itself."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # dlopen(NULL): the C library this Python is linked against, already mapped. Unlike
        # ctypes.util.find_library("c"), it runs no `ldconfig -p` subprocess (~3 ms).
        return _typed(ctypes.CDLL(None, use_errno=True))
    except (OSError, AttributeError):  # a static Python: search for the C library instead
        pass
    try:
        return _typed(ctypes.CDLL(_find_libc(), use_errno=True))
    except (OSError, AttributeError):
        return None


def _find_libc() -> str | None:
    import ctypes.util  # imported here: only a static Python needs it

    return ctypes.util.find_library("c")


def _typed(libc: ctypes.CDLL) -> ctypes.CDLL:
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p]
    return libc


def set_name(name: str) -> None:
    """Name this process (Linux, up to 15 bytes) so that ps, top and perf tell the grader's
    processes apart: judges, sandbox workers and student children are all `python` otherwise."""
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (Linux), so a killed grade run
    leaves no judge, worker or student process behind."""
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before we asked
        os._exit(1)


def apply(plan: Plan) -> list[str]:
    """Isolate the calling process as far as the OS allows; return the names of the steps that held."""
    steps: list[str] = []
    if hasattr(os, "setsid"):  # not on Windows
        os.setsid()
    libc = _libc()
    if plan.uid is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(plan.uid)
        os.setuid(plan.uid)
        steps.append("uid")
    if libc is not None:
        # Credentials changed: the kernel cleared the death signal and made us non-dumpable,
        # which would hide /proc/self/uid_map from us.
        libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        steps.extend(_namespaces(libc, plan))
    _chdir_scratch(plan.scratch)
    steps.extend(_rlimits(plan.limits))
    return steps


def _namespaces(libc: ctypes.CDLL, plan: Plan) -> list[str]:
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) != 0:
        return []
    steps = ["userns", "netns", "mountns"]
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError:
        return steps
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return steps
    opts = f"size=64m,nr_inodes=4096,mode=700,uid={uid},gid={gid}".encode()
    # Empty and read-only, except the cover that holds the child's scratch folder.
    hidden = all(
        libc.mount(b"tmpfs", path.encode(), b"tmpfs",
                   0 if plan.scratch.startswith(path.rstrip("/") + "/") else MS_RDONLY, opts) == 0
        for path in plan.hide
        if os.path.isdir(path)
    )
    if hidden:
        steps.append("hidden-paths")
    if _drop_capabilities(libc):
        steps.append("nocaps")
    return steps


def _drop_capabilities(libc: ctypes.CDLL) -> bool:
    """Give up the capabilities the new user namespace granted, so the tmpfs covers stay put."""
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = _CapDataPair()  # all zero: no capability left in any set
    ok = libc.capset(ctypes.byref(header), data) == 0
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    return bool(ok)


def _chdir_scratch(scratch: str) -> None:
    try:
        os.makedirs(scratch, mode=0o700, exist_ok=True)
        os.chdir(scratch)
    except OSError:
        os.chdir("/")


def _rlimits(limits: Limits) -> list[str]:
    if resource is None:
        return []
    wanted = [
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_CORE, 0),
    ]
    applied = 0
    for which, value in wanted:
        try:
            resource.setrlimit(which, (value, value))
            applied += 1
        except (ValueError, OSError):
            continue
    return ["rlimits"] if applied == len(wanted) else (["some-rlimits"] if applied else [])


def _write(path: str, text: str) -> None:
    # Raw os calls: the text-mode open() stack costs ~0.4 ms here (encoding lookup), os.open ~5 us.
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
