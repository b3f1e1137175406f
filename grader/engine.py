"""Grades a class: splits it into shards, runs one judge process per shard, merges the results.

`grade_submissions` is a pure function of (submissions, options) -> GradeRun apart from timings:
the seam where a cluster executor could later run shards on other machines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader import paths, results
from grader.judge.manifest import Manifest
from grader.records import EXERCISES, GradeRun, Submission


@dataclass(frozen=True)
class GradeOptions:
    """How to grade: what the command line can change."""

    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Judge processes run side by side."""
    exercises: tuple[str, ...] = EXERCISES
    """Exercises to grade."""
    seed: int = 20261123
    """Seed for random inputs; printed in every report."""
    timeout: float = 2.0
    """Seconds per call into student code."""
    memory_bytes: int = 1 << 30
    """Memory limit per submission."""
    shard_size: int = 100
    """Most submissions one judge process takes: keeps memory flat however large the class."""
    cohort_size: int = 16
    """Submissions a judge grades side by side: pytest's cost per test is shared between them."""
    plots: bool = True
    """Sample functions for the feedback plots."""
    hide: tuple[str, ...] = ()
    """Extra folders the sandbox must hide (the submissions folder, the output folder)."""
    visible_only: bool = False
    """Run only the visible tests (a student's own check), not the hidden suites."""


def suite_files(exercises: tuple[str, ...], visible_only: bool = False) -> tuple[str, ...]:
    """Visible tests from exercises/ and hidden suites from reference/suites, for these exercises."""
    found: list[str] = []
    for exercise in exercises:
        visible = sorted((paths.exercises_dir() / exercise).glob("test_*.py"))
        hidden = [] if visible_only else sorted(paths.suites_dir().glob(f"test_{exercise}.py"))
        found.extend(str(p) for p in [*visible, *hidden])
    return tuple(found)


def grade_submissions(submissions: list[Submission], options: GradeOptions,
                      on_done: Callable[[str], None] = lambda _id: None) -> GradeRun:
    """Grade every submission; call on_done(id) as each one finishes."""
    _remove_abandoned_workdirs()
    workdir = Path(tempfile.mkdtemp(prefix=f"grader-{os.getpid()}-"))
    try:
        shards = _split(submissions, options)
        suites = suite_files(options.exercises, options.visible_only)
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            futures = [pool.submit(_run_shard, n, shard, suites, workdir, options, on_done)
                       for n, shard in enumerate(shards)]
            reports = [f.result() for f in futures]
        # Read once every judge is done: holding results while judges and their sandboxes run
        # would add to the peak memory of the whole run.
        return results.build_run(submissions, [results.read_shard(r) for r in reports],
                                 options.seed)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _remove_abandoned_workdirs() -> None:
    """Delete work folders of earlier runs that were killed before they could clean up."""
    for folder in Path(tempfile.gettempdir()).glob("grader-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)) and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists; it just belongs to someone else
    return True


def _split(submissions: list[Submission], options: GradeOptions) -> list[list[Submission]]:
    if not submissions:
        return []
    # Two shards per job: one shard slowed down by hanging submissions does not leave a core
    # idle at the end, and each judge's start-up (about a second) is paid only a few times.
    # Whole cohorts: a cohort of 16 shares pytest's cost per test better than one of 9.
    per_job = -(-len(submissions) // (2 * max(1, options.jobs)))
    cohort = max(1, options.cohort_size)
    size = -(-max(1, min(options.shard_size, per_job)) // cohort) * cohort
    return [submissions[i:i + size] for i in range(0, len(submissions), size)]


def _run_shard(number: int, shard: list[Submission], suites: tuple[str, ...], workdir: Path,
               options: GradeOptions, on_done: Callable[[str], None]) -> results.ShardReport:
    shard_dir = workdir / f"shard-{number}"
    shard_dir.mkdir(mode=0o700)
    report = shard_dir / "report.json"
    read_fd, write_fd = os.pipe()
    manifest = Manifest(
        submissions=tuple(shard), suites=suites, rootdir=str(paths.course_root()),
        report=str(report), seed=options.seed, timeout=options.timeout,
        memory_bytes=options.memory_bytes,
        hide=(str(workdir), str(paths.reference_dir()), *options.hide),
        workdir=str(shard_dir), exercises=options.exercises, plots=options.plots,
        cohort_size=options.cohort_size, progress_fd=write_fd)
    manifest.dump(shard_dir / "manifest.json")
    for sub in shard:
        if sub.error is not None:
            on_done(sub.id)
    reader = threading.Thread(target=_relay_progress, args=(read_fd, on_done), daemon=True)
    reader.start()
    proc = subprocess.run(
        [sys.executable, "-I", "-c", _BOOTSTRAP, str(shard_dir / "manifest.json"),
         str(Path(__file__).resolve().parents[1])],
        pass_fds=[write_fd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=_judge_env(), cwd=str(shard_dir), check=False)
    os.close(write_fd)
    reader.join()
    return results.ShardReport(submissions=tuple(s.id for s in shard if s.error is None),
                               report=report, exit_code=proc.returncode,
                               output=proc.stdout.decode("utf-8", "replace")[-4000:])


_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv[2]); "
              "from grader.judge import runner; sys.exit(runner.main(sys.argv[1:2]))")


def _relay_progress(fd: int, on_done: Callable[[str], None]) -> None:
    with os.fdopen(fd, "r", encoding="utf-8") as stream:
        for line in stream:
            on_done(line.rstrip("\n"))


def _judge_env() -> dict[str, str]:
    """A clean environment: no PYTEST_ADDOPTS, no PYTHONPATH, no autoloaded plugins."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env
