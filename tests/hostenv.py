"""Simulated host environments, for running the grader's command in the tests.

The grader's sandbox must either work or refuse loudly on every kind of host it meets. The
tests cannot visit those hosts, so this module turns an argv into a command line that runs it
under the same conditions on this machine (which must be run as root):

- ``root``: as is, root with every capability.
- ``nonroot``: as the unprivileged user nobody (uid and gid 65534, no supplementary groups,
  no capabilities).
- ``fakeroot``: uid 0 inside a user namespace that maps only the caller's uid, as in rootless
  containers: setuid to any other uid fails (EINVAL), nested user namespaces still work.
- ``docker``: root as Docker's default profile leaves it: only Docker's default capabilities
  (no CAP_SYS_ADMIN) and a seccomp filter that refuses namespaces and mounts.
- ``nouserns``: like ``fakeroot``, but creating a user namespace fails, as on hosts with
  ``user.max_user_namespaces=0``.
- ``nonroot-nouserns``: like ``nonroot``, on a host where user namespaces are disabled
  (Ubuntu 24.04's AppArmor restriction, ``user.max_user_namespaces=0``): a plain user with no
  way to any namespace.

Every layer of a wrapper execs the next one, so the command runs in the very process that
``subprocess`` started: signals, timeouts and exit statuses reach it and come back unchanged.
Nothing on the host is changed; what differs lives in namespaces that die with the command.

This file is also the launcher of the ``docker`` environment: ``python hostenv.py docker
ARGV...`` installs the restrictions and execs ARGV.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

ENVIRONMENTS = ("root", "nonroot", "fakeroot", "docker", "nouserns", "nonroot-nouserns")

NOBODY = 65534
"""The uid and gid that ``nonroot`` runs as (nobody and nogroup on Debian and Ubuntu)."""

_NOBODY_HOME = "/nonexistent"
"""HOME for ``nonroot``: nobody's home in /etc/passwd, which does not exist."""

_HIDDEN_HOME = Path("/root")
"""Root's home: mode 0700 on most hosts, so nobody cannot run an interpreter installed there."""

_TOOLS = {
    "root": (),
    "nonroot": ("unshare", "sh", "mount", "setpriv"),
    "fakeroot": ("unshare",),
    "docker": (),
    "nouserns": ("unshare", "sh"),
    "nonroot-nouserns": ("unshare", "sh", "mount", "setpriv"),
}
"""The programs each wrapper runs besides the command, all from util-linux and a POSIX sh."""


def available(env: str) -> str | None:
    """None when this machine can simulate `env`, else the reason (used in pytest.skip).

    env: one of ENVIRONMENTS; any other name raises ValueError.
    """
    _check(env)
    return _unavailable(env)


@functools.cache
def _unavailable(env: str) -> str | None:
    """available(env), computed once per test session: it runs a probe of a few milliseconds."""
    if sys.platform != "linux":
        return f"simulating hosts needs Linux, not {sys.platform}"
    # Every simulation but root's needs root's powers to set itself up, and root's is root.
    if os.geteuid() != 0:
        return f"simulating the {env} host needs root (this runs as uid {os.geteuid()})"
    missing = [tool for tool in _TOOLS[env] if shutil.which(tool) is None]
    if missing:
        return f"simulating the {env} host needs {', '.join(missing)} (util-linux), not on PATH"
    if env == "docker":
        reason = _seccomp_unsupported()
        if reason:
            return reason
    # The kernel may still refuse (no user namespaces, no mount namespaces when this itself
    # runs in a container): only trying tells, and the error it prints is the best reason.
    probe = command(env, [sys.executable, "-c", "pass"])
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"simulating the {env} host failed: {error}"
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        return f"simulating the {env} host failed: {detail}"
    return None


def command(env: str, argv: list[str]) -> list[str]:
    """argv wrapped so that it runs in the simulated environment `env`.

    env: one of ENVIRONMENTS; any other name raises ValueError.
    argv: the command, its program looked up on PATH as usual.

    Under ``nonroot`` the command runs as nobody, so whatever it must write (the grader's
    --out folder in a pytest tmp_path, say) must be writable by nobody and every directory
    above it searchable by others; this is the caller's job. pytest keeps its temporary
    folders under /tmp/pytest-of-root, mode 0700, so chmod that (pytest makes it private
    again in its next session) or use a folder elsewhere.
    """
    _check(env)
    if env == "root":
        return list(argv)
    if env == "nonroot":
        return ["unshare", "--mount", "--propagation", "private",
                "sh", "-c", _nonroot_script(), "hostenv-nonroot", *argv]
    if env == "fakeroot":
        return ["unshare", "--user", "--map-root-user", *argv]
    if env == "nonroot-nouserns":
        return [sys.executable, "-I", str(Path(__file__).resolve()), "nouserns-map",
                *command("nonroot", argv)]
    if env == "docker":
        # -I: the launcher ignores PYTHON* variables and the user's site-packages, and does
        # not put this folder on sys.path; the command still gets the environment unchanged.
        return [sys.executable, "-I", str(Path(__file__).resolve()), "docker", *argv]
    # nouserns. max_user_namespaces is per user namespace, and creating a user namespace
    # checks the limit of every namespace above the new one: a 0 in the namespace the
    # command runs in refuses it any further user namespace, and the host keeps its value.
    script = 'echo 0 >/proc/sys/user/max_user_namespaces || exit 125; exec "$@"'
    return ["unshare", "--user", "--map-root-user",
            "sh", "-c", script, "hostenv-nouserns", *argv]


def _check(env: str) -> None:
    """Raise ValueError when `env` is not one of ENVIRONMENTS (a typo in a test)."""
    if env not in ENVIRONMENTS:
        raise ValueError(f"unknown host environment {env!r}, not one of {ENVIRONMENTS}")


def _nonroot_script() -> str:
    """The sh launcher of ``nonroot``, run as root in a private mount namespace.

    It covers root's home with an empty tmpfs of mode 0755, mounts back the folders of it
    that hold this Python (pyenv's, typically) at the same paths, then drops to nobody.
    """
    kept = _kept_in_hidden_home()
    # dash only takes one-digit file descriptors; 3 to 9 leaves room for seven folders.
    assert len(kept) <= 7, kept
    lines = ["set -e"]
    # A descriptor keeps each real folder reachable once the tmpfs covers its path, without
    # making a temporary mount point anywhere on the host.
    lines += [f"exec {fd}<{shlex.quote(str(path))}" for fd, path in enumerate(kept, 3)]
    lines.append(f"mount -t tmpfs -o mode=0755 hostenv {shlex.quote(str(_HIDDEN_HOME))}")
    for fd, path in enumerate(kept, 3):
        # --no-canonicalize: mount would otherwise resolve /proc/self/fd/N to the path,
        # which now names the empty folder on the tmpfs, not the real one.
        lines += [f"mkdir -p {shlex.quote(str(path))}",
                  f"mount --no-canonicalize --rbind /proc/self/fd/{fd} {shlex.quote(str(path))}",
                  f"exec {fd}<&-"]
    # Root's HOME would point into the tmpfs, where nobody cannot write; PATH stays.
    lines.append(f"HOME={_NOBODY_HOME}; USER=nobody; LOGNAME=nobody; export HOME USER LOGNAME")
    # Changing every uid away from 0 clears the permitted and effective capabilities; the
    # inheritable set is cleared by hand, as a plain user's is empty.
    lines.append(f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups"
                 ' --inh-caps=-all -- "$@"')
    return "\n".join(lines)


def _kept_in_hidden_home() -> list[Path]:
    """The top folders of root's home that hold this Python, its venv or its installation.

    The venv's python is a symlink into /root/.pyenv on the development machines.
    """
    kept: set[Path] = set()
    for place in (sys.executable, sys.prefix, sys.base_prefix):
        real = Path(os.path.realpath(place))
        if real.is_relative_to(_HIDDEN_HOME) and real != _HIDDEN_HOME:
            kept.add(_HIDDEN_HOME / real.relative_to(_HIDDEN_HOME).parts[0])
    return sorted(kept)


# The docker environment: the launcher below runs as root, before the command.

_DOCKER_CAPABILITIES = {
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_FSETID": 4, "CAP_KILL": 5,
    "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10,
    "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18, "CAP_MKNOD": 27, "CAP_AUDIT_WRITE": 29,
    "CAP_SETFCAP": 31,
}
"""The capabilities Docker gives a container by default (moby's oci/caps/defaults.go)."""

DOCKER_CAPABILITY_MASK = sum(1 << number for number in _DOCKER_CAPABILITIES.values())
"""The bounding, permitted and effective sets of a root process under ``docker``."""

CLONE_NAMESPACES = 0x20000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 \
    | 0x20000000 | 0x40000000 | 0x80
"""Every CLONE_NEW* flag: mount, cgroup, UTS, IPC, user, PID, network and time namespaces."""


@dataclass(frozen=True)
class _Arch:
    """What the seccomp filter must know about one machine architecture."""

    audit: int
    """The AUDIT_ARCH_* value the kernel puts in seccomp_data.arch for native system calls."""
    x32: bool
    """Whether system call numbers with bit 30 set are a second ABI (x32) on the same arch."""
    unshare: int
    """The number of the unshare system call, and so on for the fields below."""
    setns: int
    clone: int
    clone3: int
    mount: int
    umount2: int
    pivot_root: int


_ARCHES = {
    "x86_64": _Arch(audit=0xC000003E, x32=True, unshare=272, setns=308, clone=56, clone3=435,
                    mount=165, umount2=166, pivot_root=155),
    "aarch64": _Arch(audit=0xC00000B7, x32=False, unshare=97, setns=268, clone=220, clone3=435,
                     mount=40, umount2=39, pivot_root=41),
}
"""The architectures the filter knows, by platform.machine()."""

# Classic BPF opcodes (linux/bpf_common.h).
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS: load 32 bits of seccomp_data
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K: jump when A & k is not 0
_RET_K = 0x06  # BPF_RET | BPF_K

# struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
_NR = 0
_ARCH = 4
_ARG0_LOW = 16  # little-endian, as both known architectures are

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_EPERM = 1
_ENOSYS = 38


def _seccomp_unsupported() -> str | None:
    """None when the docker launcher's seccomp filter fits this machine, else why not."""
    if platform.machine() not in _ARCHES:
        return f"the docker host's seccomp filter knows {', '.join(_ARCHES)}, " \
               f"not {platform.machine()}"
    if sys.maxsize < 2 ** 32:
        return "the docker host's seccomp filter needs a 64-bit Python"
    return None


def _seccomp_program(arch: _Arch) -> list[tuple[int, int, int, int]]:
    """The filter of Docker's default profile, as far as namespaces and mounts go.

    Returns (code, jt, jf, k) rows of struct sock_filter. As Docker does for a container
    without CAP_SYS_ADMIN, it refuses with EPERM unshare, setns, mount, umount2, pivot_root,
    and clone with a CLONE_NEW* flag, and answers clone3 with ENOSYS, whose flags live in
    memory seccomp cannot read, so that glibc falls back to clone. Foreign ABIs (i386 and x32
    on x86_64, arm32 on aarch64) get ENOSYS for every call rather than a hole in the filter.
    """
    # Rows are (code, k, label jumped to when true, when false); None falls through, and a
    # bare string marks the position of a label.
    rows: list[tuple[int, int, str | None, str | None] | str] = [
        (_LD_W_ABS, _ARCH, None, None),
        (_JEQ_K, arch.audit, None, "nosys"),
        (_LD_W_ABS, _NR, None, None),
    ]
    if arch.x32:
        rows.append((_JSET_K, 0x40000000, "nosys", None))
    rows.append((_JEQ_K, arch.clone3, "nosys", None))
    for refused in (arch.unshare, arch.setns, arch.mount, arch.umount2, arch.pivot_root):
        rows.append((_JEQ_K, refused, "eperm", None))
    rows += [
        (_JEQ_K, arch.clone, None, "allow"),
        # clone's flags are its first argument on both architectures; they fit in 32 bits.
        (_LD_W_ABS, _ARG0_LOW, None, None),
        (_JSET_K, CLONE_NAMESPACES, "eperm", "allow"),
        "allow", (_RET_K, _RET_ALLOW, None, None),
        "eperm", (_RET_K, _RET_ERRNO | _EPERM, None, None),
        "nosys", (_RET_K, _RET_ERRNO | _ENOSYS, None, None),
    ]
    labels: dict[str, int] = {}
    instructions: list[tuple[int, int, str | None, str | None]] = []
    for row in rows:
        if isinstance(row, str):
            labels[row] = len(instructions)
        else:
            instructions.append(row)
    program = []
    for index, (code, k, if_true, if_false) in enumerate(instructions):
        # Jumps count the instructions skipped after this one, forward only.
        jt = labels[if_true] - index - 1 if if_true else 0
        jf = labels[if_false] - index - 1 if if_false else 0
        assert 0 <= jt < 256 and 0 <= jf < 256, (index, jt, jf)
        program.append((code, jt, jf, k))
    return program


class _SockFilter(ctypes.Structure):
    """struct sock_filter, one BPF instruction."""

    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    """struct sock_fprog, a BPF program."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


class _CapHeader(ctypes.Structure):
    """struct __user_cap_header_struct."""

    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    """struct __user_cap_data_struct, 32 capabilities of each set."""

    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_PR_CAPBSET_DROP = 24
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def _docker_launch(argv: list[str]) -> NoReturn:
    """Become root as in a Docker container with the default profile, then exec argv.

    argv: the command, its program looked up on PATH.
    """
    if not argv:
        sys.exit("hostenv docker: no command given")
    reason = _seccomp_unsupported()
    if reason:
        sys.exit(f"hostenv docker: {reason}")
    libc = ctypes.CDLL(None, use_errno=True)
    ulong = ctypes.c_ulong

    def check(result: int, what: str) -> None:
        """Exit with the C error of a failed libc call, loudly rather than half set up."""
        if result != 0:
            error = ctypes.get_errno()
            sys.exit(f"hostenv docker: {what} failed: {os.strerror(error)}")

    # The filter goes first, while CAP_SYS_ADMIN allows it without no_new_privs: Docker's
    # runc does the same, so setuid programs keep working as they do in a container.
    rows = _seccomp_program(_ARCHES[platform.machine()])
    instructions = (_SockFilter * len(rows))(*(_SockFilter(*row) for row in rows))
    program = _SockFprog(len(rows), instructions)
    check(libc.prctl(ctypes.c_int(_PR_SET_SECCOMP), ulong(_SECCOMP_MODE_FILTER),
                     ulong(ctypes.addressof(program)), ulong(0), ulong(0)), "seccomp")
    # The bounding set caps what any later exec can give back, even to root; dropping from
    # it needs CAP_SETPCAP, which Docker keeps.
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for number in range(last + 1):
        if not DOCKER_CAPABILITY_MASK >> number & 1:
            check(libc.prctl(ctypes.c_int(_PR_CAPBSET_DROP), ulong(number), ulong(0),
                             ulong(0), ulong(0)), f"dropping capability {number}")
    # Root's exec would rebuild permitted and effective from the bounding set anyway; this
    # clears them and the inheritable set (Docker 23 and later give none) now, which also
    # clears the ambient set.
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    check(libc.capget(ctypes.byref(header), data), "capget")
    for word, cap in enumerate(data):
        mask = DOCKER_CAPABILITY_MASK >> (32 * word) & 0xFFFFFFFF
        cap.effective &= mask
        cap.permitted &= mask
        cap.inheritable = 0
    check(libc.capset(ctypes.byref(header), data), "capset")
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        sys.exit(f"hostenv docker: cannot run {argv[0]}: {error.strerror}")


def _nouserns_launch(argv: list[str]) -> NoReturn:
    """Run argv in a user namespace mapping root and nobody to themselves, whose limit of user
    namespaces is 0: the command may still drop to nobody (as ``nonroot`` does), who then finds
    user namespaces refused as on a host that disables them.

    argv: the command, its program looked up on PATH.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    ready_r, ready_w = os.pipe()
    launcher = os.getpid()
    # The maps are written from outside the new namespace (only a writer with root's powers
    # there may map more than its own uid), by a helper: this process itself must go on to
    # exec the command, as every layer does.
    helper = os.fork()
    if helper == 0:
        os.close(ready_w)
        if os.read(ready_r, 1) != b"u":
            os._exit(1)
        for name in ("uid_map", "gid_map"):
            Path(f"/proc/{launcher}/{name}").write_text(f"0 0 1\n{NOBODY} {NOBODY} 1\n")
        os._exit(0)
    os.close(ready_r)
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        sys.exit(f"hostenv nouserns-map: unshare failed: {os.strerror(ctypes.get_errno())}")
    os.write(ready_w, b"u")
    os.close(ready_w)
    _, status = os.waitpid(helper, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("hostenv nouserns-map: the uid and gid maps could not be written")
    Path("/proc/sys/user/max_user_namespaces").write_text("0")
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        sys.exit(f"hostenv nouserns-map: cannot run {argv[0]}: {error.strerror}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["docker"]:
        _docker_launch(sys.argv[2:])
    if sys.argv[1:2] == ["nouserns-map"]:
        _nouserns_launch(sys.argv[2:])
    sys.exit("usage: hostenv.py docker|nouserns-map ARGV...")
