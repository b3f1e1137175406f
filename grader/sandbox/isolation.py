"""Isolation steps a sandbox child applies to itself before it runs any student code.

Runs inside the forked child of the worker, so it imports only the standard library. Each step
that succeeds is named in the isolation level the judge records; a step the OS refuses is skipped
(a laptop without user namespaces still gets resource limits).
"""

from __future__ import annotations

import ctypes
import functools
import os
import select
import signal
import sys
from dataclasses import dataclass
from typing import Any

from grader.sandbox import view

try:  # imported here, while the files are still readable: the child may lose access later
    import resource
except ImportError:  # Windows has no rlimits
    resource = None  # type: ignore[assignment]

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
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
    """Folders to cover with an empty tmpfs should they lie inside the view (the reference of
    an installed package); everything else of the host is left out of the view anyway."""
    scratch: str
    """The child's cwd where it gets neither a view nor a chroot (a fresh folder of the
    grader's work folder)."""
    limits: Limits
    """Resource limits applied last."""
    void: str = ""
    """An empty folder only root may write in: the child's root where the OS refuses
    namespaces but allows chroot (Docker's default profile). Empty: no chroot."""


def plan_from_dict(raw: dict[str, Any]) -> Plan:
    """The Plan a judge sent as JSON (see grader.sandbox.client)."""
    return Plan(uid=raw["uid"], hide=tuple(raw["hide"]), scratch=raw["scratch"],
                limits=Limits(**raw["limits"]), void=str(raw.get("void", "")))


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


@dataclass(frozen=True)
class Applied:
    """What isolate() achieved in the process that goes on to run student code."""

    steps: list[str]
    """The isolation steps that held, in order."""
    host_pid: int
    """This process's pid as the host (and the judge) sees it: not 1 in a PID namespace."""


def isolate(plan: Plan) -> Applied:
    """Isolate the calling process as far as the OS allows.

    With a PID namespace the caller forks: the process that returns is the namespace's first
    process (the one to run student code), while the caller stays behind to wait for it and
    leaves with its exit status (see _stand_in). Namespaces first, as the view needs the
    rights the caller starts with (root can mount a Python kept under /root); the dedicated
    uid next; capabilities dropped and resource limits last.
    """
    steps: list[str] = []
    if hasattr(os, "setsid"):  # not on Windows
        os.setsid()
    libc = _libc()
    switch = plan.uid is not None and hasattr(os, "geteuid") and os.geteuid() == 0
    host_pid = os.getpid()
    if libc is not None:
        # A fork clears the death signal: asked again here, so that the process that stays
        # behind in a PID namespace (see _stand_in) dies with the worker too.
        die_with_parent()
        steps, host_pid = _namespaces(libc, plan, switch)
        if "view" not in steps and plan.void and _chroot(plan.void):
            steps.append("chroot")
        _drop_bounding_set(libc)
    if switch:
        assert plan.uid is not None
        os.setgroups([])
        os.setgid(plan.uid)
        os.setuid(plan.uid)
        steps.insert(0, "uid")
    if libc is not None:
        # Credentials changed: the kernel cleared the death signal and made us non-dumpable,
        # which would hide /proc/self from us.
        libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        if _drop_capabilities(libc) and ("view" in steps or "chroot" in steps):
            steps.append("nocaps")
    if "view" not in steps and "chroot" not in steps:
        _chdir_scratch(plan.scratch)
    steps.extend(_rlimits(plan.limits))
    return Applied(steps, host_pid)


def _namespaces(libc: ctypes.CDLL, plan: Plan, switch: bool) -> tuple[list[str], int]:
    """New mount, network and PID namespaces (and a user namespace unless running as root that
    switches uid), then the allowlisted view; ([], pid) where the OS refuses."""
    uid, gid = os.getuid(), os.getgid()
    user = 0 if switch else CLONE_NEWUSER
    for flags in (user | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID, user | CLONE_NEWNS | CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            break
    else:
        return [], os.getpid()
    steps = ["userns"] if user else []
    if user:
        try:
            _write("/proc/self/setgroups", "deny")
            # Never uid 0 inside: a fake root (a user namespace already) would get every
            # capability back in ours at its next execve.
            _write("/proc/self/uid_map", f"{uid or 1000} {uid} 1")
            _write("/proc/self/gid_map", f"{gid or 1000} {gid} 1")
        except OSError:
            return steps, os.getpid()
    host_pid = os.getpid()
    if flags & CLONE_NEWPID:
        host_pid = _fork_into_pid_namespace(libc)
        steps.append("pidns")
    steps += ["netns", "mountns"]
    steps += view.build(libc, plan.hide, with_proc=bool(flags & CLONE_NEWPID))
    return steps, host_pid


def _fork_into_pid_namespace(libc: ctypes.CDLL) -> int:
    """Fork; return (in the child, the new namespace's first process) its host pid. The
    caller never returns: it waits for the child and exits as it did."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid != 0:
        os.close(read_end)
        os.write(write_end, pid.to_bytes(4, "little"))
        _stand_in(pid)
    os.close(write_end)
    # Dies with its stand-in: killing that (the pid the worker knows) ends the namespace.
    libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    host_pid = int.from_bytes(os.read(read_end, 4), "little")
    # The stand-in may have died before the death signal was asked for: then the pipe is
    # at its end already.
    if not host_pid or select.select([read_end], [], [], 0)[0]:
        os._exit(1)
    os.close(read_end)
    return host_pid


def _stand_in(pid: int) -> None:
    """Wait for the namespace's first process and end as it did, so the worker sees its exit
    status. Holding the child's channel until then means the judge reads the end of the
    channel only once that status is set."""
    set_name("grade-student")
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(1)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
        except (OSError, ValueError):
            pass
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status))


def _chroot(void: str) -> bool:
    """Without a mount namespace: an empty root where nothing of the host can be opened."""
    try:
        os.chroot(void)
        os.chdir("/")
        return True
    except OSError:
        return False


def _drop_bounding_set(libc: ctypes.CDLL) -> None:
    """No capability can come back through execve, even for a uid 0."""
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability this kernel knows


def _drop_capabilities(libc: ctypes.CDLL) -> bool:
    """Give up every capability left, so the view and its covers stay put."""
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
