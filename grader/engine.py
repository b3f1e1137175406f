"""Grades submissions: splits them into shards and runs one judge process per shard.

`Judges.grade` returns the results of a few submissions in memory (a student's check, one
Gradescope submission); `Judges.grade_each` hands each shard's results on as its judge finishes,
for grader.pipeline to write to parts. Other machines grade slices of a class through
`grade run --shard` (grader.pipeline, grader.dask_run).
"""

from __future__ import annotations

import os
import queue
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from grader import judge_process, paths, results
from grader.judge_process import JudgeProcess
from grader.judge.manifest import Manifest
from grader import course
from grader.records import GradeRun, Submission


T = TypeVar("T")
#: Called with (shard number, its submissions, what its judge left) as each shard is done.
ReportSink = Callable[[int, list[Submission], results.ShardReport], None]
#: Shards waiting for a judge: (shard number, a function that reads its submissions).
Pending = queue.SimpleQueue[tuple[int, Callable[[], list[Submission]]]]

#: Shards are made of multiples of this many submissions (see _split).
SHARD_GRANULE = 32


@dataclass(frozen=True)
class GradeOptions:
    """How to grade: what the command line can change."""

    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Judge processes run side by side."""
    exercises: tuple[str, ...] = field(default_factory=course.exercises)
    """Exercises to grade."""
    seed: int = 20261123
    """Seed for random inputs; printed in every report."""
    timeout: float = 2.0
    """Seconds per call into student code."""
    submission_timeout: float = 30.0
    """Seconds per submission, all its calls together: a function slow in every call cannot
    stall the class (see grader.sandbox.session)."""
    memory_bytes: int = 1 << 30
    """Memory limit per submission."""
    shard_size: int = 64
    """Most submissions in one pytest session (one report): keeps memory flat however large the
    class, and lets judges share out the work as they go."""
    cohort_size: int = 64
    """Submissions a judge grades side by side: pytest's cost per test is shared between them."""
    plots: bool = True
    """Sample functions for the feedback plots."""
    hide: tuple[str, ...] = ()
    """Extra folders the sandbox must hide (the submissions folder, the output folder)."""
    visible_only: bool = False
    """Run only the visible tests (a student's own check), not the hidden suites."""
    portable: bool = False
    """Judge in this process, each submission's code in a plain Python process (no fork, no
    confinement): for a student's own check on a machine that cannot fork (Windows)."""


def grade_submissions(submissions: list[Submission], options: GradeOptions,
                      on_done: Callable[[str], None] = lambda _id: None) -> GradeRun:
    """Grade every submission; call on_done(id) as each one finishes."""
    with Judges(options, len(submissions)) as judges:
        return judges.grade(submissions, on_done)


class Judges:
    """The judge processes of one run, started as soon as the run's size is roughly known:
    each spends about a second on its imports, which then overlaps the reading of the
    submissions (see grade)."""

    def __init__(self, options: GradeOptions, expected: int) -> None:
        """Start as many judges as a class of `expected` submissions would use (taking over the
        one the command line started first, if any)."""
        _remove_abandoned_workdirs()
        self.options = options
        early = judge_process.take_early()
        self.workdir = early.workdir if early is not None else judge_process.workdir()
        self._on_done: Callable[[str], None] = lambda _id: None
        count = 0 if options.portable else min(max(1, options.jobs),
                                                 len(_split(list(range(expected)), options)))
        self._ready: dict[int, JudgeProcess] = {}
        try:
            if early is not None:
                early.relay.to = self._done
                self._ready[0] = early.judge
            for number in range(len(self._ready), count):
                self._ready[number] = JudgeProcess(self._judge_dir(number), self._done)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Judges:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _judge_dir(self, number: int) -> Path:
        return judge_process.judge_dir(self.workdir, number)

    def _done(self, submission_id: str) -> None:
        self._on_done(submission_id)

    def grade(self, submissions: list[Submission],
              on_done: Callable[[str], None] = lambda _id: None) -> GradeRun:
        """Grade every submission; call on_done(id) as each one finishes."""
        reports: list[tuple[int, results.ShardReport]] = []
        lock = threading.Lock()

        def keep(number: int, _shard: list[Submission], report: results.ShardReport) -> None:
            with lock:
                reports.append((number, report))
        self._run(submissions, _same, on_done, keep)
        # Read once every judge is done: results held while the judges and their sandboxes run
        # would add to the peak memory of the run (a class graded into parts lets each shard's
        # results go as soon as they are on disk, see grade_each).
        return results.build_run(
            submissions, [results.read_shard(r) for _, r in sorted(reports, key=lambda r: r[0])],
            self.options.seed)

    def grade_each(self, items: Sequence[T], load: Callable[[T], Submission],
                   on_done: Callable[[str], None],
                   on_shard: Callable[[list[Submission], results.ShardResults], None]) -> None:
        """Grade every item, each read with `load` only when its shard goes to a judge, and hand
        each shard's results to on_shard as soon as its judge is done (from the judges' threads:
        on_shard must be thread-safe). Memory holds a shard per judge, not the class."""
        lock = threading.Lock()

        def read(_number: int, shard: list[Submission], report: results.ShardReport) -> None:
            # One shard at a time: reading a report and making its results is Python work the
            # GIL runs one thread at a time anyway, and two shards' worth of it at once would
            # set the run's peak memory.
            with lock:
                on_shard(shard, results.read_shard(report))
            report.report.unlink(missing_ok=True)
        self._run(items, load, on_done, read)

    def _run(self, items: Sequence[T], load: Callable[[T], Submission],
             on_done: Callable[[str], None], on_report: ReportSink) -> None:
        self._on_done = on_done
        options = self.options
        shards = _split(list(items), options)
        suites = course.suite_files(options.exercises, options.visible_only)
        # Judges take the next shard as they become free: one slowed down by a hanging
        # submission takes fewer, and no core waits for the slowest at the end.
        pending: Pending = queue.SimpleQueue()
        for number, shard in enumerate(shards):
            pending.put((number, partial(_loaded, shard, load, on_done)))
        if options.portable:
            _judge_here(pending, suites, self.workdir, options, on_done, on_report)
        else:
            self._judge_all(pending, suites, min(max(1, options.jobs), len(shards)), on_report)

    def _judge_all(self, pending: Pending, suites: tuple[str, ...], count: int,
                   on_report: ReportSink) -> None:
        with ThreadPoolExecutor(max_workers=max(1, count)) as pool:
            futures = [pool.submit(_judge_loop, self._judge_dir(n), self._ready.pop(n, None),
                                   pending, suites, self.workdir, self.options, self._done,
                                   on_report)
                       for n in range(count)]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                # Ctrl-C (or a failure): the judges take no new shard, so leaving the pool
                # waits only for the ones running (a terminal interrupts those too).
                while not pending.empty():
                    pending.get_nowait()
                raise

    def close(self) -> None:
        """End the judges no shard went to; remove the run's work folder."""
        while self._ready:
            self._ready.popitem()[1].discard()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _remove_abandoned_workdirs() -> None:
    """Delete work folders of earlier runs that were killed before they could clean up."""
    for folder in Path(tempfile.gettempdir()).glob("grader-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)) and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        # os.kill(pid, 0) is no probe there: signal 0 is CTRL_C_EVENT, sent to that process.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists; it just belongs to someone else
    return True


def _split(submissions: list[T], options: GradeOptions) -> list[list[T]]:
    """Shards of whole cohorts, large first and smaller towards the end.

    A full cohort shares pytest's cost per test better than a part-filled one, and a shard costs
    about a tenth of a second of pytest set-up; shards that shrink as the work runs out leave
    no judge alone with a long one at the end while the others wait.
    """
    # Shard sizes are whole multiples of this, so that even the small shards of the end fill
    # their cohorts: a shard of up to a cohort's size is a single cohort.
    granule = max(1, min(options.cohort_size, SHARD_GRANULE))
    jobs = max(1, options.jobs)
    shards: list[list[T]] = []
    start = 0
    while start < len(submissions):
        left = len(submissions) - start
        size = max(1, min(options.shard_size, -(-left // (2 * jobs))))
        size = -(-size // granule) * granule
        shards.append(submissions[start:start + size])
        start += size
    return shards


def _same(submission: Submission) -> Submission:
    return submission


def _loaded(shard: list[T], load: Callable[[T], Submission],
            on_done: Callable[[str], None]) -> list[Submission]:
    """A shard's submissions read; those that cannot be graded are done already."""
    found = [load(item) for item in shard]
    for sub in found:
        if sub.error is not None:
            on_done(sub.id)
    return found


def _judge_loop(judge_dir: Path, judge: JudgeProcess | None, pending: Pending,
                suites: tuple[str, ...], workdir: Path, options: GradeOptions,
                on_done: Callable[[str], None], on_report: ReportSink) -> None:
    """Feed shards to one judge process (`judge`, if started already) until none are left;
    a judge that dies is replaced."""
    try:
        while True:
            try:
                shard_number, read_shard = pending.get_nowait()
            except queue.Empty:
                return
            shard = read_shard()
            if judge is None:
                judge = JudgeProcess(judge_dir, on_done)
            manifest = _manifest(shard_number, shard, suites, workdir, judge_dir, options,
                                 judge.progress_fd)
            path = judge_dir / f"manifest-{shard_number}.json"
            manifest.dump(path)
            code = judge.run(path)
            output = ""
            if code is None:  # the judge died: its output says why; the next shard gets a new one
                code, output = judge.close()
                judge = None
            on_report(shard_number, shard, _shard_report(shard, manifest, code, output))
    finally:
        if judge is not None:
            judge.close()


def _manifest(number: int, shard: list[Submission], suites: tuple[str, ...], workdir: Path,
              judge_dir: Path, options: GradeOptions, progress_fd: int) -> Manifest:
    return Manifest(
        submissions=tuple(shard), suites=suites, rootdir=str(paths.course_root()),
        report=str(judge_dir / f"report-{number}.json"), seed=options.seed,
        timeout=options.timeout, submission_timeout=options.submission_timeout,
        memory_bytes=options.memory_bytes,
        hide=(str(workdir), str(paths.reference_dir()), *options.hide),
        workdir=str(judge_dir), exercises=options.exercises, plots=options.plots,
        cohort_size=options.cohort_size, progress_fd=progress_fd)


def _shard_report(shard: list[Submission], manifest: Manifest, code: int,
                  output: str) -> results.ShardReport:
    return results.ShardReport(submissions=tuple(s.id for s in shard if s.error is None),
                               report=Path(manifest.report), exit_code=code, output=output)


def _judge_here(pending: Pending, suites: tuple[str, ...], workdir: Path, options: GradeOptions,
                on_done: Callable[[str], None], on_report: ReportSink) -> None:
    """Every shard judged in this process (options.portable): no judge process, no fork."""
    from grader.judge.runner import Judge  # pytest and the judge: only this path needs them here
    from grader.sandbox.portable import PortableSandbox

    judge_dir = workdir / "judge"
    judge_dir.mkdir(mode=0o700)
    judge = Judge(PortableSandbox)
    try:
        while not pending.empty():
            number, read_shard = pending.get_nowait()
            shard = read_shard()
            manifest = _manifest(number, shard, suites, workdir, judge_dir, options, -1)
            report = _shard_report(shard, manifest, judge.run_shard(manifest), "")
            for sid in report.submissions:
                on_done(sid)
            on_report(number, shard, report)
    finally:
        judge.close()
