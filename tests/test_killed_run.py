"""A grade run killed with SIGKILL halfway leaves no half-written output and no process behind,
and running the same command again completes the class with the same results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.procs import now_ticks, processes
from tests.test_cli import CORRECT_ACTIVATIONS

SLOW = CORRECT_ACTIVATIONS.replace("def tanh(z):\n    return np.tanh(z)",
                                   "import time\ndef tanh(z):\n    time.sleep(0.4)\n    return np.tanh(z)")


def command(subs: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "grader", str(subs), "--out", str(out), "--exercise",
            "activations", "--jobs", "1", "--quiet", "--no-timings", "--no-plots"]


def descendants_alive(began: int) -> list[int]:
    """Judge, worker and sandbox processes started since `began` that are still running."""
    return [p.pid for p in processes() if p.started >= began
            and (b"grader.judge" in p.cmdline or b"grader.sandbox" in p.cmdline)]


def test_sigkill_halfway_then_rerun(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    for n in range(6):
        (subs / f"s{n}").mkdir(parents=True)
        (subs / f"s{n}" / "activations.py").write_text(SLOW if n % 2 else CORRECT_ACTIVATIONS)
    began = now_ticks()
    proc = subprocess.Popen(command(subs, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    assert proc.poll() is None, "the run finished before it could be killed; make it slower"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while descendants_alive(began) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert descendants_alive(began) == []
    assert not (out / "results.json").exists()
    for path in out.rglob("*") if out.exists() else []:
        if path.is_file() and path.suffix == ".html":
            assert path.read_text().rstrip().endswith("</html>")

    done = subprocess.run(command(subs, out), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert [s["id"] for s in results["submissions"]] == [f"s{n}" for n in range(6)]
    assert all(s["score"] == s["max_score"] for s in results["submissions"])
    assert [p.name for p in out.rglob(".*.tmp")] == []
    workdirs = [p for p in Path("/tmp").glob("grader-*-*") if not os.path.exists(f"/proc/{p.name.split('-')[1]}")]
    assert workdirs == []
