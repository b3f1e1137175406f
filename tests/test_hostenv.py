"""Each simulated host of tests/hostenv.py is what it claims, as seen from inside it.

Every test runs a small Python snippet through the wrapper and checks what the snippet saw.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.hostenv import DOCKER_CAPABILITY_MASK, ENVIRONMENTS, available, command

# Shared by the snippets: ctypes calls that report errno, and the process's status fields.
PRELUDE = r"""
import ctypes, json, os, platform, sys
libc = ctypes.CDLL(None, use_errno=True)
def call(function, *args):
    ctypes.set_errno(0)
    result = function(*args)
    return [result, ctypes.get_errno()]
def status():
    return dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines()
                if ":\t" in line)
def raises(function, *args):
    try:
        function(*args)
    except OSError as error:
        return error.errno
    return None
def in_child(function):
    # Runs function in a forked child and gives its exit status, the parent staying as it was.
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(function())
        except BaseException:
            os._exit(99)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x20000
SIGCHLD = 17
NR = {"x86_64": {"clone": 56, "clone3": 435}, "aarch64": {"clone": 220, "clone3": 435}}.get(
    platform.machine(), {})
seen = {}
"""


def run(env: str, snippet: str, *args: str) -> dict[str, Any]:
    """What the snippet put in `seen`, run in the simulated host `env` (skipped if impossible).

    env: one of ENVIRONMENTS.
    snippet: Python run after PRELUDE, filling the dict `seen`.
    args: the snippet's sys.argv[1:].
    """
    reason = available(env)
    if reason:
        pytest.skip(reason)
    source = PRELUDE + snippet + "\nprint(json.dumps(seen))\n"
    result = subprocess.run(command(env, [sys.executable, "-c", source, *args]),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return seen


def test_unknown_environments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown host environment"):
        command("podman", ["true"])
    with pytest.raises(ValueError, match="unknown host environment"):
        available("podman")


def test_root_runs_the_command_as_is() -> None:
    argv = [sys.executable, "-c", "pass"]
    assert command("root", argv) == argv
    seen = run("root", 'seen["uid"] = os.getresuid(); seen["cap"] = status()["CapEff"]')
    assert seen["uid"] == [0, 0, 0]
    assert int(seen["cap"], 16) != 0


def shared_folder(tmp_path: Path) -> Path:
    """A folder of tmp_path that nobody can write, as the docstring of command asks."""
    folder = tmp_path / "out"
    folder.mkdir()
    folder.chmod(0o777)
    # pytest's /tmp/pytest-of-root is 0700: let others search every folder above.
    for parent in folder.parents:
        mode = parent.stat().st_mode
        if mode & stat.S_IXOTH == 0:
            parent.chmod(mode | stat.S_IXOTH)
    return folder


def test_nonroot_is_nobody_and_still_runs_the_venv(tmp_path: Path) -> None:
    hidden = Path("/root").stat()
    folder = shared_folder(tmp_path)
    seen = run("nonroot", r"""
import numpy
seen["uid"] = os.getresuid()
seen["gid"] = os.getresgid()
seen["groups"] = os.getgroups()
seen["caps"] = [status()[name] for name in ("CapInh", "CapPrm", "CapEff", "CapAmb")]
seen["home"] = os.environ["HOME"]
seen["path"] = os.environ["PATH"]
seen["setuid"] = raises(os.setuid, 0)
out = os.path.join(sys.argv[1], "written")
open(out, "w").write("ok")
seen["owner"] = os.stat(out).st_uid
""", str(folder))
    assert seen["uid"] == [65534] * 3
    assert seen["gid"] == [65534] * 3
    assert seen["groups"] == []
    assert [int(caps, 16) for caps in seen["caps"]] == [0, 0, 0, 0]
    assert seen["home"] == "/nonexistent"
    assert seen["path"] == os.environ["PATH"]
    assert seen["setuid"] is not None
    assert seen["owner"] == 65534
    # The host's /root is still what it was: the tmpfs lived in the command's namespace.
    after = Path("/root").stat()
    assert (after.st_mode, after.st_dev, after.st_ino) == \
        (hidden.st_mode, hidden.st_dev, hidden.st_ino)


def test_fakeroot_is_root_of_a_user_namespace_mapping_one_uid() -> None:
    seen = run("fakeroot", r"""
seen["uid"] = os.getresuid()
seen["uid_map"] = open("/proc/self/uid_map").read().split()
seen["setuid"] = raises(os.setuid, 100000)
seen["nested"] = in_child(lambda: 0 if libc.unshare(CLONE_NEWUSER) == 0 else 1)
""")
    assert seen["uid"] == [0, 0, 0]
    assert seen["uid_map"] == ["0", str(os.geteuid()), "1"]
    assert seen["setuid"] == 22  # EINVAL: uid 100000 has no mapping
    assert seen["nested"] == 0


def test_docker_root_has_no_sys_admin_and_no_namespaces(tmp_path: Path) -> None:
    seen = run("docker", r"""
import subprocess, threading
seen["uid"] = os.getresuid()
fields = status()
seen["caps"] = {name: int(fields[name], 16) for name in ("CapBnd", "CapPrm", "CapEff")}
seen["inheritable"] = int(fields["CapInh"], 16)
seen["seccomp"] = fields["Seccomp"]
seen["no_new_privs"] = fields["NoNewPrivs"]
seen["unshare_user"] = call(libc.unshare, CLONE_NEWUSER)
seen["unshare_mount"] = call(libc.unshare, CLONE_NEWNS)
uts = os.open("/proc/self/ns/uts", os.O_RDONLY)
seen["setns"] = call(libc.setns, uts, 0)
seen["mount"] = call(libc.mount, b"none", sys.argv[1].encode(), b"tmpfs", 0, None)
seen["umount2"] = call(libc.umount2, b"/proc", 0)
seen["clone3"] = call(libc.syscall, NR["clone3"], None, 0)
def clone_new_user():
    # The raw clone would go on in a child on a copy of this stack: that child leaves at once.
    result = call(libc.syscall, NR["clone"], CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
    if result[0] == 0:
        os._exit(0)
    if result[0] > 0:
        os.waitpid(result[0], 0)
    return result
seen["clone_new_user"] = clone_new_user()
seen["fork"] = in_child(lambda: 7)
threads = []
thread = threading.Thread(target=lambda: threads.append(threading.get_native_id()))
thread.start()
thread.join()
seen["thread"] = len(threads) == 1 and threads[0] != threading.get_native_id()
seen["subprocess"] = subprocess.run([sys.executable, "-c", "pass"]).returncode
def become_another_user():
    os.setgroups([])
    os.setgid(100000)
    os.setuid(100000)
    return 0 if os.getresuid() == (100000,) * 3 else 1
seen["setuid"] = in_child(become_another_user)
def chroot():
    os.chroot(sys.argv[1])
    os.chdir("/")
    return 0 if os.listdir("/") == [] else 1
seen["chroot"] = in_child(chroot)
seen["kill"] = raises(os.kill, 1, 0)
""", str(tmp_path))
    assert seen["uid"] == [0, 0, 0]
    sys_admin = 1 << 21
    for name, caps in seen["caps"].items():
        assert caps == DOCKER_CAPABILITY_MASK, name
        assert not caps & sys_admin, name
    for kept in (5, 6, 7, 18):  # CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SYS_CHROOT
        assert seen["caps"]["CapEff"] >> kept & 1
    assert seen["inheritable"] == 0
    assert seen["seccomp"] == "2"
    assert seen["no_new_privs"] == "0"  # as in Docker without --security-opt no-new-privileges
    eperm, enosys = [-1, 1], [-1, 38]
    assert seen["unshare_user"] == eperm
    assert seen["unshare_mount"] == eperm
    assert seen["setns"] == eperm
    assert seen["mount"] == eperm
    assert seen["umount2"] == eperm
    assert seen["clone3"] == enosys
    assert seen["clone_new_user"] == eperm
    assert seen["fork"] == 7
    assert seen["thread"] is True
    assert seen["subprocess"] == 0
    assert seen["setuid"] == 0
    assert seen["chroot"] == 0
    assert seen["kill"] is None


def test_nouserns_refuses_user_namespaces_and_leaves_the_host_alone() -> None:
    limit = Path("/proc/sys/user/max_user_namespaces")
    before = limit.read_text()
    seen = run("nouserns", r"""
seen["uid"] = os.getresuid()
seen["limit"] = open("/proc/sys/user/max_user_namespaces").read().strip()
seen["unshare_user"] = call(libc.unshare, CLONE_NEWUSER)
seen["setuid"] = raises(os.setuid, 100000)
""")
    assert seen["uid"] == [0, 0, 0]
    assert seen["limit"] == "0"
    assert seen["unshare_user"][0] == -1
    assert seen["unshare_user"][1] in (1, 28)  # EPERM (AppArmor) or ENOSPC (the limit)
    assert seen["setuid"] == 22
    assert limit.read_text() == before


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_layer_execs_so_the_command_is_the_started_process(env: str) -> None:
    # Timeouts, signals and the tests that look for leftover processes rely on this.
    reason = available(env)
    if reason:
        pytest.skip(reason)
    argv = [sys.executable, "-c", "import os; print(os.getpid())"]
    process = subprocess.Popen(command(env, argv), stdout=subprocess.PIPE, text=True)
    out, _ = process.communicate(timeout=60)
    # Inside a PID namespace the number would differ; none of these makes one.
    assert int(out) == process.pid
    failing = subprocess.run(command(env, [sys.executable, "-c", "raise SystemExit(3)"]),
                             timeout=60)
    assert failing.returncode == 3
