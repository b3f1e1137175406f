"""Hostile student code against the sandbox itself, with small limits so a sandbox failure stays harmless."""

from __future__ import annotations

import os
import signal
import textwrap
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from grader.sandbox import killer
from grader.sandbox.client import Sandbox, SandboxConfig
from grader.sandbox.session import Session
from tests.procs import processes

ROOT = os.geteuid() == 0
Z = np.array([-2.0, 0.0, 3.0])


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A folder the child must not see, holding a file it must not change."""
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "canary.txt").write_text("untouched")
    return hidden


@pytest.fixture
def sandbox(tmp_path: Path, canary: Path) -> Iterator[Sandbox]:
    work = tmp_path / "work"
    work.mkdir()
    box = Sandbox(SandboxConfig(timeout=0.5, memory_bytes=256 << 20,
                                hide=(str(canary), str(work)), workdir=str(work)))
    yield box
    box.close()


def session_for(sandbox: Sandbox, source: str) -> Session:
    return sandbox.open({"activations": textwrap.dedent(source)})


def sandbox_processes(uid: int | None) -> list[int]:
    """Pids of live (non-zombie) processes owned by the sandbox uid."""
    return [p.pid for p in processes() if p.uid == uid and not p.zombie]


def test_plain_call_returns_array_and_reports_inplace_changes(sandbox: Sandbox) -> None:
    s = session_for(sandbox, """
        import numpy as np
        def relu(z): return np.maximum(0, z)
        def clobber(z):
            z[z < 0] = 0
            return z
    """)
    ok = s.call("activations", "relu", (Z,), {})
    assert ok.ok and np.array_equal(ok.value, [0.0, 0.0, 3.0])  # type: ignore[arg-type]
    changed = s.call("activations", "clobber", (Z.copy(),), {})
    assert np.array_equal(changed.after[0], [0.0, 0.0, 3.0])  # type: ignore[arg-type]
    s.close()


def test_infinite_loop_costs_only_that_function(sandbox: Sandbox) -> None:
    s = session_for(sandbox, """
        import signal, numpy as np
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        def relu(z):
            while True:
                pass
        def sigmoid(z): return 1 / (1 + np.exp(-z))
    """)
    started = time.monotonic()
    hung = s.call("activations", "relu", (Z,), {})
    assert hung.kind == "timeout" and hung.message == "your relu() did not return within 0.5 s"
    assert time.monotonic() - started < 5
    assert s.call("activations", "sigmoid", (Z,), {}).ok
    s.call("activations", "relu", (Z,), {})
    skipped = s.call("activations", "relu", (Z,), {})
    assert skipped.kind == "timeout" and skipped.message.startswith("not run: your relu() already ran out")
    s.close()


def test_sleep_is_cut_at_the_deadline(sandbox: Sandbox) -> None:
    s = session_for(sandbox, "import time\ndef relu(z):\n    time.sleep(60)\n")
    started = time.monotonic()
    assert s.call("activations", "relu", (Z,), {}).kind == "timeout"
    assert time.monotonic() - started < 5
    s.close()


def test_memory_bomb_hits_the_limit(sandbox: Sandbox) -> None:
    s = session_for(sandbox, "import numpy as np\ndef tanh(z): return np.ones(10**9)\n")
    result = s.call("activations", "tanh", (Z,), {})
    assert result.kind == "memory"
    assert result.message == "your tanh() used more than 256 MiB of memory"
    s.close()


@pytest.mark.skipif(not ROOT, reason="the process cap needs a dedicated uid (root only)")
def test_fork_bomb_is_capped_and_nothing_survives(sandbox: Sandbox) -> None:
    s = session_for(sandbox, """
        import os, time
        def relu(z):
            children = 0
            for _ in range(200):
                try:
                    if os.fork() == 0:
                        time.sleep(600)
                        os._exit(0)
                    children += 1
                except OSError:
                    break
            return children
    """)
    result = s.call("activations", "relu", (Z,), {})
    assert result.ok and isinstance(result.value, int) and result.value < 16
    assert sandbox_processes(sandbox.uid)
    s.close()
    assert sandbox_processes(sandbox.uid) == []


@pytest.mark.skipif(not ROOT, reason="killing by uid needs root")
def test_threads_and_detached_processes_are_killed_at_close(sandbox: Sandbox) -> None:
    s = session_for(sandbox, """
        import os, threading, time
        def relu(z):
            threading.Thread(target=lambda: time.sleep(600), daemon=False).start()
            if os.fork() == 0:
                os.setsid()
                time.sleep(600)
                os._exit(0)
            return 1.0
    """)
    assert s.call("activations", "relu", (Z,), {}).ok
    s.close()
    assert sandbox_processes(sandbox.uid) == []


def test_a_stopped_kill_helper_cannot_stall_the_worker() -> None:
    # Once a kill helper runs as the sandbox uid, a student's process could SIGSTOP it (a
    # kill(-1, SIGSTOP) loop). Here a stand-in helper is stopped outright.
    read_end, go = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(go)
        os.kill(os.getpid(), signal.SIGSTOP)
        os._exit(0)
    os.close(read_end)
    done = threading.Event()
    codes: list[int] = []
    threading.Thread(target=lambda: (codes.append(killer.Helper(pid, go).dismiss()), done.set()),
                     daemon=True).start()
    try:
        assert done.wait(killer.HELPER_WAIT + 10), "waiting for a stopped helper stalled"
        assert codes == [-signal.SIGKILL]
    finally:
        if not done.is_set():
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("body, expected", [
    ("raise SystemExit(3)", "SystemExit while calling relu()"),
    ("raise KeyboardInterrupt", "KeyboardInterrupt while calling relu()"),
    ("class Boom(BaseException): pass\n    raise Boom('x')", "Boom while calling relu()"),
    ("return relu(z)", "RecursionError while calling relu()"),
    ("raise NotImplementedError", "relu() is not implemented yet (it still raises NotImplementedError)"),
])
def test_exceptions_during_a_call_are_reported(sandbox: Sandbox, body: str, expected: str) -> None:
    s = session_for(sandbox, f"def relu(z):\n    {body}\n")
    result = s.call("activations", "relu", (Z,), {})
    assert not result.ok and result.message.startswith(expected)
    s.close()


@pytest.mark.parametrize("top, expected", [
    ("import sys\nsys.exit(2)", "SystemExit while importing activations.py"),
    ("def relu(z) return z", "SyntaxError in activations.py line 1"),
    ("raise KeyboardInterrupt", "KeyboardInterrupt while importing activations.py"),
])
def test_exceptions_during_import_are_reported(sandbox: Sandbox, top: str, expected: str) -> None:
    s = session_for(sandbox, top + "\n")
    result = s.call("activations", "relu", (Z,), {})
    assert result.kind == "import_error" and result.message.startswith(expected)
    s.close()


def test_os_exit_and_segfault_are_reported_as_crashes(sandbox: Sandbox) -> None:
    s = session_for(sandbox, """
        import ctypes, os
        def relu(z): os._exit(3)
        def tanh(z): ctypes.string_at(0)
        def sigmoid(z): return 0.5
    """)
    exited = s.call("activations", "relu", (Z,), {})
    assert exited.kind == "crash" and "exit code 3" in exited.message
    crashed = s.call("activations", "tanh", (Z,), {})
    assert crashed.kind == "crash" and "SIGSEGV" in crashed.message
    assert s.call("activations", "sigmoid", (Z,), {}).value == 0.5
    s.close()


@pytest.mark.parametrize("body, word", [
    ("class Liar:\n        def __eq__(self, other): return True\n    return Liar()", "Liar"),
    ("class Sub(np.ndarray): pass\n    return np.zeros(3).view(Sub)", "subclass of ndarray"),
    ("return np.array([object(), 1], dtype=object)", "dtype object"),
    ("class Fake:\n        def __array__(self, *a, **k): return np.zeros(3)\n    return Fake()", "Fake"),
])
def test_values_that_are_not_plain_data_are_rejected(sandbox: Sandbox, body: str, word: str) -> None:
    s = session_for(sandbox, f"import numpy as np\ndef relu(z):\n    {body}\n")
    result = s.call("activations", "relu", (Z,), {})
    assert result.kind == "bad_return" and word in result.message
    s.close()


def test_huge_output_is_capped(sandbox: Sandbox) -> None:
    s = session_for(sandbox, "import os\ndef relu(z):\n    print('x' * 10**7)\n"
                             "    os.write(1, b'y' * 10**6)\n    return 1.0\n")
    result = s.call("activations", "relu", (Z,), {})
    assert result.ok and len(result.stdout) < 10_000 and "more characters not shown" in result.stdout
    s.close()


def test_atexit_handlers_never_run(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "atexit-canary"
    s = session_for(sandbox, f"import atexit\natexit.register(lambda: open({str(target)!r}, 'w'))\n"
                             "def relu(z): return 1.0\n")
    assert s.call("activations", "relu", (Z,), {}).ok
    s.close()
    assert not target.exists()


@pytest.mark.skipif(not ROOT, reason="mount namespaces and a dedicated uid need root")
def test_hidden_folders_are_empty_and_canaries_survive(sandbox: Sandbox, canary: Path,
                                                       tmp_path: Path) -> None:
    outside = tmp_path / "outside-canary"
    s = session_for(sandbox, f"""
        import os
        def relu(z):
            try:
                seen = os.listdir({str(canary)!r})
            except OSError:  # not even reachable: as good as empty
                seen = []
            for path in ({str(canary / 'canary.txt')!r}, {str(outside)!r}):
                try:
                    with open(path, 'w') as f:
                        f.write('owned')
                except OSError:
                    pass
            return len(seen)
    """)
    assert s.call("activations", "relu", (Z,), {}).value == 0
    s.close()
    assert (canary / "canary.txt").read_text() == "untouched"
    assert not outside.exists()
    assert "view" in (sandbox.isolation or ())


@pytest.mark.skipif(not ROOT, reason="network namespaces need root here")
def test_no_network(sandbox: Sandbox) -> None:
    s = session_for(sandbox, """
        import socket
        def relu(z):
            try:
                socket.create_connection(('127.0.0.1', 9), timeout=0.2)
            except OSError as exc:
                return type(exc).__name__
            return 'connected'
    """)
    result = s.call("activations", "relu", (Z,), {})
    assert result.ok and result.value != "connected"
    s.close()


def test_an_error_in_student_code_quotes_the_line_it_was_raised_on(sandbox: Sandbox) -> None:
    s = session_for(sandbox, """
        import numpy as np

        def relu(z):
            scaled = z * undefined_factor
            return np.maximum(0, scaled)
    """)
    result = s.call("activations", "relu", (Z,), {})
    s.close()
    assert result.kind == "exception"
    assert result.message == ("NameError while calling relu() (activations.py line 5: "
                              "scaled = z * undefined_factor): name 'undefined_factor' is not "
                              "defined")
