"""`grade run --executor dask`: a class graded in packages on a Dask cluster, one of whose two
workers is SIGKILLed mid-run, gives the results of a single run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.procs import processes

distributed = pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "submissions"
FAST = ("--exercise", "activations", "--no-timings", "--quiet")


def grade(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, timeout=600)


def make_class(folder: Path, size: int) -> Path:
    students = sorted(p for p in SAMPLE.iterdir() if p.is_dir())
    for n in range(size):
        shutil.copytree(students[n % len(students)], folder / f"{students[n % len(students)].name}-{n:02d}")
    return folder


def package_running_on(workers: set[int]) -> int | None:
    """The pid of a worker that runs a package (a `grade run --shard` below it), if any."""
    for p in processes():
        if p.ppid in workers and b"--shard" in p.cmdline:
            return p.ppid
    return None


def test_a_worker_killed_mid_run_costs_nothing(tmp_path: Path) -> None:
    class_dir = make_class(tmp_path / "class", 40)
    single = grade(class_dir, "--out", tmp_path / "single", *FAST)
    assert single.returncode == 0, single.stderr
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        workers = set(client.run(os.getpid).values())
        run = subprocess.Popen(
            [sys.executable, "-m", "grader", str(class_dir), "--out", str(out), "--executor",
             "dask", "--scheduler", cluster.scheduler_address, "--package-size", "32",
             "--jobs", "1", *FAST], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while (victim := package_running_on(workers)) is None:
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "no package started in two minutes"
            time.sleep(0.05)
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    assert json.loads((out / "results.json").read_text()) == \
        json.loads((tmp_path / "single" / "results.json").read_text())
    assert (out / "grades.csv").read_text() == (tmp_path / "single" / "grades.csv").read_text()
    # Nothing of the cluster or of its packages outlives it.
    assert not [p for p in processes() if b"--shard" in p.cmdline and not p.zombie]


def test_parts_kept_in_an_fsspec_store_give_a_single_runs_results_and_resume(
        tmp_path: Path) -> None:
    class_dir = make_class(tmp_path / "class", 40)
    single = grade(class_dir, "--out", tmp_path / "single", *FAST)
    assert single.returncode == 0, single.stderr
    store, out = tmp_path / "store", tmp_path / "out"
    command = (class_dir, "--out", out, "--executor", "dask", "--jobs", "2", "--package-size",
               "32", "--parts-url", f"file://{store}", "--exercise", "activations",
               "--no-timings")
    first = grade(*command)
    assert first.returncode == 0, first.stderr
    assert json.loads((out / "results.json").read_text()) == \
        json.loads((tmp_path / "single" / "results.json").read_text())
    # The workers wrote only to the store; this host merged its own copies of the parts.
    packages = sorted(p.name for p in store.iterdir())
    assert packages == ["00001-of-00002", "00002-of-00002"]
    for name in packages:
        kept = sorted(p.name for p in (store / name / ".parts").iterdir())
        assert "complete.json" in kept
        assert sorted(p.name for p in (out / ".shards" / name / ".parts").iterdir()) == kept
        assert not list((store / name).glob("*/feedback.html"))
    # Run again with this host's copies gone: every package reuses what the store holds, so
    # no part is written anew (a regraded slice's part would have a new name).
    parts = {p: p.read_bytes() for p in store.glob("*/.parts/part-*.jsonl")}
    shutil.rmtree(out)
    again = grade(*command)
    assert again.returncode == 0, again.stderr
    assert {p: p.read_bytes() for p in store.glob("*/.parts/part-*.jsonl")} == parts
    assert json.loads((out / "results.json").read_text()) == \
        json.loads((tmp_path / "single" / "results.json").read_text())
