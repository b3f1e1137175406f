"""The file system a sandbox child sees: built from an allowlist, nothing else of the host.

The way bubblewrap, nsjail and isolate build theirs: inside the child's own mount namespace, a
small tmpfs becomes the new root; the Python runtime, the installed packages and the system's
shared libraries are bind-mounted into it read-only; /tmp, /dev/shm, /var/tmp and /run are
folders of that tmpfs, so everything a submission writes shares one small budget and disappears
with the child; a few device files and (in the child's own PID namespace) a fresh /proc; then
pivot_root, and the host's tree is detached. No home folder, course checkout, output or work
folder is in the list. Folders to hide that lie inside a mounted one (the reference of an
installed package) get an empty read-only tmpfs over them.

Standard library only: this runs in the forked child, before any student code.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import sys
from dataclasses import dataclass

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 1 << 14
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
#: statvfs flag -> mount flag, for the flags a remount inside a user namespace must keep.
_KEPT_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
               (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME),
               (os.ST_RELATIME, MS_RELATIME)) if hasattr(os, "ST_NOSUID") else ()
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}

#: Size of the child's whole writable space (/tmp, /dev/shm, /var/tmp, /run and its cwd).
SCRATCH_BYTES = 64 << 20
#: Writable folders of the child's root, all on its one tmpfs; the first is its cwd.
WRITABLE = ("/tmp", "/dev/shm", "/var/tmp", "/run", "/run/lock")
DEVICES = ("null", "zero", "full", "random", "urandom")
#: Shared libraries a package may still load (ctypes, a lazily imported extension).
SYSTEM_LIBS = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32",
               "/usr/local/lib")
#: The only file of the host's /etc: the loader's cache, so libraries are found by name.
ETC_FILES = ("/etc/ld.so.cache",)


def python_path(entries: list[str]) -> list[str]:
    """The entries of a sys.path that are Python's own: its library and installed packages
    (under one of its prefixes, or a site-packages folder), never the current folder or a
    checkout a .pth file added. The child imports from these only, and the view mounts them."""
    prefixes = tuple(os.path.join(p, "") for p in {sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                    sys.base_exec_prefix})
    return [p for p in entries if p and ("site-packages" in p or p.startswith(prefixes))]


@functools.cache
def sources() -> tuple[str, ...]:
    """Host folders mounted into the view: Python's library and installed packages (wherever
    Python lives, a home folder included) and the system's shared libraries. Worked out once
    in the worker, before it forks: every child inherits the answer."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    found = [os.path.join(p, "lib") for p in prefixes]
    found += python_path(sys.path)
    found += SYSTEM_LIBS
    real = sorted({os.path.normpath(p) for p in found if os.path.isdir(p)})
    # A folder inside another one is already there.
    return tuple(p for n, p in enumerate(real)
                 if not any(p.startswith(os.path.join(q, "")) for q in real[:n]))


@dataclass(frozen=True)
class _Entry:
    """One host path of the view, pinned before the new root covers anything."""

    path: str
    """Where it goes in the view (the same path as on the host)."""
    link: str | None
    """The target of a symbolic link (put in the view as a link), or None."""
    fd: int
    """An O_PATH descriptor of the file or folder to bind (-1 for a link or a missing path)."""
    folder: bool
    """Whether it is a folder."""
    flags: int
    """The mount flags a remount in a user namespace must keep (see _kept_flags)."""


def build(libc: ctypes.CDLL, hide: tuple[str, ...], with_proc: bool) -> list[str]:
    """Make the allowlisted view this process's root; return the steps that held.

    Call inside a fresh mount namespace, with the capabilities to mount. An empty list means
    nothing changed; anything else means the host's tree is gone from this process.
    """
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return []
    # Pinned first: the new root is mounted over an existing folder (/tmp), which would hide a
    # Python installed below it (a virtual environment in /tmp, say) from a bind by path.
    needed = [_pin(p) for p in sources()]
    extras = [_pin(p) for p in (*ETC_FILES, *(f"/dev/{name}" for name in DEVICES))]
    try:
        return _build(libc, needed, extras, hide, with_proc)
    finally:
        for entry in (*needed, *extras):
            if entry.fd >= 0:
                os.close(entry.fd)


def _build(libc: ctypes.CDLL, needed: list[_Entry], extras: list[_Entry],
           hide: tuple[str, ...], with_proc: bool) -> list[str]:
    root = _mount_point()
    opts = f"size={SCRATCH_BYTES},nr_inodes=16384,mode=755".encode()
    if root is None or libc.mount(b"tmpfs", root.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                                  opts) != 0:
        return []
    for entry in needed:
        if not _place(libc, entry, root):
            return []  # Python would be missing something: better no view than a broken one
    for entry in extras:
        _place(libc, entry, root)
    for path in WRITABLE:
        os.makedirs(root + path, exist_ok=True)
        os.chmod(root + path, 0o1777)
    for path in hide:  # inside a mounted folder (an installed package's reference)
        if os.path.isdir(root + path):
            libc.mount(b"tmpfs", (root + path).encode(), b"tmpfs", MS_RDONLY, b"size=4k,mode=755")
    steps = ["view", "scratch"]
    if with_proc:
        os.mkdir(root + "/proc", 0o555)
        if libc.mount(b"proc", (root + "/proc").encode(), b"proc",
                      MS_NOSUID | MS_NODEV | MS_NOEXEC, None) == 0:
            steps.append("proc")
        else:  # a host that masks parts of its /proc refuses a new one: then there is none
            os.rmdir(root + "/proc")
    # The root's own folders are read-only for whoever runs as another uid (mode 755).
    if not _pivot(libc, root):
        raise OSError("pivot_root failed after the view was built")
    os.chdir(WRITABLE[0])
    return steps


def _mount_point() -> str | None:
    """An existing folder to mount the new root on (hidden from the host: our namespace)."""
    for path in ("/tmp", "/mnt", "/var/tmp", "/dev/shm"):
        if os.path.isdir(path) and not os.path.islink(path):
            return path
    return None


def _pin(path: str) -> _Entry:
    if os.path.islink(path):  # /lib -> usr/lib on merged-/usr systems: the link itself
        return _Entry(path, os.readlink(path), -1, False, 0)
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return _Entry(path, None, -1, False, 0)
    return _Entry(path, None, fd, os.path.isdir(path), _kept_flags(path))


def _place(libc: ctypes.CDLL, entry: _Entry, root: str) -> bool:
    """Put the host's path at the same place under `root`, read-only; False if it failed."""
    target = root + entry.path
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if entry.link is not None:
        os.symlink(entry.link, target)
        return True
    if entry.fd < 0:  # not on this host
        return True
    if entry.folder:
        os.makedirs(target, exist_ok=True)
    else:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    source = f"/proc/self/fd/{entry.fd}".encode()
    if libc.mount(source, target.encode(), None, MS_BIND, None) != 0:
        return False
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | entry.flags
    return bool(libc.mount(None, target.encode(), None, flags, None) == 0)


def _kept_flags(path: str) -> int:
    """The flags of the mount `path` is on that a user namespace may not drop in a remount."""
    try:
        have = os.statvfs(path).f_flag
    except OSError:
        return 0
    return sum(flag for st, flag in _KEPT_FLAGS if have & st)


def _pivot(libc: ctypes.CDLL, root: str) -> bool:
    """Make `root` this process's root and detach the host's tree beneath it."""
    os.chdir(root)
    number = _PIVOT_ROOT.get(platform.machine())
    if number is not None and libc.syscall(number, b".", b".") == 0:
        # pivot_root(".", ".") stacks the old root on top of the new one: detach it.
        return bool(libc.umount2(b".", MNT_DETACH) == 0) and _chdir_root()
    # Elsewhere chroot into it; the capabilities to leave it are dropped next.
    try:
        os.chroot(".")
    except OSError:
        return False
    return _chdir_root()


def _chdir_root() -> bool:
    os.chdir("/")
    return True
