"""Student code sees an empty machine: hostile submissions through the real sandbox, each aimed
only at canaries in tmp_path (and at uniquely named files it is the test's job to remove)."""

from __future__ import annotations

import os
import time
import textwrap
import uuid
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from grader import paths
from grader.sandbox import host
from grader.sandbox.client import Sandbox, SandboxConfig
from grader.sandbox.session import Session

Z = np.array([-2.0, 0.0, 3.0])
FULL = host.probe().level == "full"
pytestmark = pytest.mark.skipif(not FULL, reason="this host gives no namespaces to test")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    work = tmp_path / "work"
    work.mkdir()
    # Only the work folder is on the hide list: what follows must be invisible by the view.
    box = Sandbox(SandboxConfig(timeout=2.0, memory_bytes=256 << 20, hide=(str(work),),
                                workdir=str(work)))
    yield box
    box.close()


def ask(sandbox: Sandbox, source: str) -> object:
    session: Session = sandbox.open({"activations": textwrap.dedent(source)})
    try:
        result = session.call("activations", "relu", (Z,), {})
        assert result.ok, result.message
        return result.value
    finally:
        session.close()


def test_a_reference_in_a_course_checkout_is_not_there(sandbox: Sandbox, tmp_path: Path) -> None:
    checkout = tmp_path / "course-repo"
    (checkout / "reference").mkdir(parents=True)
    secret = checkout / "reference" / "activations.py"
    secret.write_text("def relu(z):\n    return 'the reference'\n")
    secret.chmod(0o644)
    found = ask(sandbox, f"""
        import os
        def relu(z):
            seen = []
            for path in ({str(secret)!r}, {str(paths.reference_dir() / 'activations.py')!r}):
                try:
                    with open(path) as f:
                        seen.append(f.read())
                except OSError as exc:
                    seen.append(type(exc).__name__)
            seen.append(os.path.exists({str(tmp_path)!r}))
            seen.append(sorted(os.listdir('/')))
            return repr(seen)
    """)
    assert "the reference" not in str(found) and "def relu" not in str(found)
    assert "FileNotFoundError" in str(found) and "False" in str(found)
    # Nothing of the host's top level but what Python needs: no home folders, no /etc beyond
    # the loader's cache, no /sys.
    top = eval(str(found))[-1]  # noqa: S307 - our own repr of a list of strings
    assert "home" not in top and "sys" not in top and "boot" not in top


def test_only_its_own_processes_and_no_network_interfaces(sandbox: Sandbox) -> None:
    found = ask(sandbox, """
        import os
        def relu(z):
            pids = sorted(p for p in os.listdir('/proc') if p.isdigit())
            return repr((pids, os.getpid(), os.path.exists('/sys/class/net'),
                         os.path.exists('/sys')))
    """)
    assert found == repr((["1"], 1, False, False))


def test_nothing_written_outlives_the_child(sandbox: Sandbox) -> None:
    name = f"sandbox-canary-{uuid.uuid4().hex}"
    places = [f"{d}/{name}" for d in ("/dev/shm", "/var/tmp", "/tmp", "/run/lock")]
    try:
        written = ask(sandbox, f"""
            def relu(z):
                done = []
                for path in {places!r}:
                    with open(path, 'w') as f:
                        f.write('left behind')
                    done.append(path)
                return len(done)
        """)
        assert written == len(places)  # the child could write: into its own scratch
        assert [p for p in places if os.path.exists(p)] == []
    finally:
        for path in places:  # a sandbox failure must not leave the canaries on the host
            if os.path.exists(path):
                os.remove(path)


def test_scratch_space_is_small(sandbox: Sandbox) -> None:
    found = ask(sandbox, """
        import errno
        def relu(z):
            block = b'x' * (8 << 20)
            written = 0
            try:
                for n in range(20):  # 160 MiB asked, in files of 8 MiB
                    with open(f'/dev/shm/f{n}', 'wb') as f:
                        f.write(block)
                    written += len(block)
            except OSError as exc:
                return (written >> 20, errno.errorcode.get(exc.errno, '?'))
            return (written >> 20, 'no limit')
    """)
    assert isinstance(found, tuple) and found[1] == "ENOSPC" and 32 <= found[0] <= 64


def test_installed_packages_import_lazily(sandbox: Sandbox) -> None:
    # Modules no one imported before the child was forked: read from the read-only view.
    found = ask(sandbox, """
        def relu(z):
            import csv, sqlite3, xml.dom.minidom, email.message
            import os
            try:
                open(csv.__file__, 'a').close()
                return 'writable'
            except OSError:
                return 'read-only'
    """)
    assert found == "read-only"


def test_nothing_of_a_child_outlives_its_worker(sandbox: Sandbox) -> None:
    import signal
    import threading

    session = sandbox.open({"activations": "def relu(z):\n    while True:\n        pass\n"})

    def call() -> None:
        try:
            session.call("activations", "relu", (Z,), {})
        except OSError:  # the worker it would ask to kill the child is gone
            pass

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    deadline = time.monotonic() + 10
    while session.student_pid is None and time.monotonic() < deadline:
        time.sleep(0.01)
    pids = [session.pid, session.student_pid]
    assert None not in pids and pids[0] != pids[1]  # the waiting process and the looping one
    assert sandbox._proc is not None
    os.kill(sandbox._proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [p for p in pids if _running(p)] == []
    caller.join(timeout=5)


def _running(pid: int | None) -> bool:
    """Whether pid is a live process (a zombie is dead: only its parent's wait is missing)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_python_kept_below_the_new_roots_mount_point_is_still_in_the_view(
        tmp_path: Path) -> None:
    # The view's root is mounted over /tmp: a virtual environment kept in /tmp (a CI checkout)
    # must still be bound in, pinned before it is covered.
    from grader.sandbox import isolation, view

    packages = tmp_path / "venv" / "lib" / "site-packages"
    packages.mkdir(parents=True)
    (packages / "marker_module.py").write_text("FOUND = True\n")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 3
        try:
            libc = isolation._libc()
            assert libc is not None and libc.unshare(isolation.CLONE_NEWNS) == 0
            view.sources.cache_clear()
            original = view.sources
            view.sources = lambda: (*original(), str(packages))  # type: ignore[assignment]
            steps = view.build(libc, (), with_proc=False)
            code = 0 if "view" in steps and (packages / "marker_module.py").is_file() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
