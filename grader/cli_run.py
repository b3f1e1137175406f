"""The instructor's commands of `grade`: `run` (the default) and `merge`.

Part of the command line (grader.cli registers them on the `grade` group); it only parses and
prints: the work is grader.pipeline's, grader.merge's and grader.dask_run's.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import click

from grader import check, merge, paths, pipeline, preflight, submissions
from grader.cli_common import chosen_exercises, course_option, exercise_option, guarded
from grader.cli_common import isolation_option, parse_memory, require_isolation, seed_option
from grader.cli_common import submission_timeout_option, timeout_option
from grader.engine import SHARD_GRANULE, GradeOptions
from grader.errors import ExitCode, UsageError
from grader.outputs import OutputOptions, check_folder, check_run_paths, gradebook_warnings
from grader.outputs import summary_lines, writing
from grader.records import GradeRun
from grader.reports import gradebook
from grader.reports.gradebook import Gradebook
from grader.sandbox.memory import admit

#: A run's totals, gathered only when asked for (--fail-under).
Totals = Callable[[], Gradebook]

EXAMPLES = """
\b
Examples:
  grade examples/submissions --out out          grade a class, one page per student
  grade alice.zip --out out --reveal names      one submission (platform use)
  grade subs --out out --exercise NAME          only that exercise
  grade subs --out out --jobs 4 --seed 7        reproduce a run with its seed
  grade subs --out parts/3 --shard 3/8          the third of eight slices (see `grade merge`)
"""

def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of what `run` and `merge` write."""
    for option in reversed([
        click.option("--reveal", type=click.Choice(["none", "names", "all"]), default="none",
                     show_default=True, help="What students see of hidden tests."),
        click.option("--roster", type=click.Path(path_type=Path),
                     help="CSV with an id column (and name, email, sis_id...) joined into "
                          "grades.csv."),
        click.option("--gradebook", "layout", type=click.Choice(gradebook.LAYOUTS),
                     default="plain", show_default=True, help="Also write an LMS import file."),
        click.option("--assignment", metavar="NAME", help="Assignment column of the canvas or "
                     "moodle file.  [default: the course's title]"),
        click.option("--assignment-id", type=click.IntRange(1), metavar="N",
                     help="Canvas assignment id (in its address), so the import updates that "
                          "assignment."),
        click.option("--junit", type=click.Path(path_type=Path),
                     help="Also write JUnit XML to this file (GitLab, Jenkins, GitHub "
                          "reporters)."),
        click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
                     help="Exit 1 when a submission scores below this percent (CI use)."),
        click.option("--no-timings", is_flag=True,
                     help="Leave durations out (byte-identical reruns)."),
        click.option("--quiet", "-q", is_flag=True, help="Print only errors."),
    ]):
        command = option(command)
    return command


def _output(reveal: str, roster: Path | None, layout: str, assignment: str | None,
            assignment_id: int | None, junit: Path | None, no_timings: bool,
            jobs: int) -> OutputOptions:
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    return OutputOptions(reveal=reveal, roster=roster, layout=layout,
                         assignment=gradebook.assignment_header(layout, assignment, assignment_id),
                         include_timings=not no_timings, junit=junit, jobs=jobs,
                         step_summary=Path(summary) if summary else None)


def register(main: click.Group) -> None:
    """Add `run` and `merge` to the `grade` group."""

    @main.command("run", epilog=EXAMPLES)
    @course_option
    @click.argument("submissions_path", metavar="SUBMISSIONS", type=click.Path(path_type=Path))
    @click.option("--out", "-o", "out_dir", required=True, type=click.Path(path_type=Path),
                  help="Output folder (created if missing).")
    @click.option("--jobs", "-j", type=click.IntRange(1, 256), default=os.cpu_count() or 1,
                  show_default="all cores", help="Judge processes run side by side.")
    @exercise_option
    @seed_option
    @timeout_option
    @submission_timeout_option
    @click.option("--memory", default="1G", show_default=True,
                  help="Memory limit per submission.")
    @isolation_option
    @output_options
    @click.option("--no-plots", is_flag=True, help="Skip sampling functions for the plots.")
    @click.option("--force", is_flag=True, help="Regrade every submission, even those unchanged "
                  "since the last run into --out.")
    @click.option("--shard", "shard_text", metavar="K/N", help="Grade only the k-th of N slices "
                  "of the class into --out (its parts and pages); `grade merge` joins them.")
    @click.option("--parts-only", is_flag=True, help="With --shard: write only the parts, not "
                  "the slice's pages (the merge writes every page from the parts).")
    @click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
                  show_default=True, help="Where the judges run: this machine, or a Dask "
                  "cluster (needs the dask extra and an --out every worker can reach).")
    @click.option("--scheduler", metavar="ADDRESS", help="The Dask scheduler, tcp://HOST:PORT; "
                  "default: a cluster of --jobs workers on this machine.")
    @click.option("--package-size", type=click.IntRange(1), default=256, show_default=True,
                  help="Submissions per package sent to a Dask worker.")
    @click.option("--parts-url", metavar="URL", help="With --executor dask: an fsspec URL "
                  "(s3://bucket/path, gs://..., file://...) where the packages keep their parts "
                  "when the workers share no folder with this host; they must still see "
                  "SUBMISSIONS at the same path.")
    def run_command(submissions_path: Path, out_dir: Path, jobs: int, **kw: Any) -> None:
        """Grade SUBMISSIONS (a folder of submissions, or one submission) into --out.

        A rerun into the same --out reuses the results of submissions that have not changed (nor
        have the suites, the grader or the grading options), also those a killed run had
        finished; --force regrades them all. With $GITHUB_STEP_SUMMARY set, a Markdown summary
        is appended to it.
        """
        fail_under = kw.pop("fail_under")
        totals = guarded(lambda: _run(submissions_path, out_dir, jobs, **kw))
        if fail_under is not None:
            _check_threshold(totals(), fail_under, kw["quiet"])

    @main.command("merge")
    @click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
    @click.option("--out", "-o", "out_dir", required=True, type=click.Path(path_type=Path),
                  help="Output folder (created if missing).")
    @click.option("--jobs", "-j", type=click.IntRange(1, 256), default=os.cpu_count() or 1,
                  show_default="all cores", help="Processes that render the pages.")
    @output_options
    def merge_command(folders: tuple[Path, ...], out_dir: Path, jobs: int, **kw: Any) -> None:
        """Join the FOLDERS of `grade run --shard k/N` (all N of them) into the outputs a single
        run writes: results.json, grades.csv, the gradebook, index.html and the pages."""
        fail_under = kw.pop("fail_under")
        book = guarded(lambda: _merge(folders, out_dir, jobs, **kw))
        if fail_under is not None:
            _check_threshold(book, fail_under, kw["quiet"])


def _run(source: Path, out_dir: Path, jobs: int, *, exercises: tuple[str, ...], seed: int,
         timeout: float, submission_timeout: float, memory: str, isolation_minimum: str,
         no_plots: bool, force: bool, shard_text: str | None, parts_only: bool, executor: str,
         scheduler: str | None, package_size: int, parts_url: str | None, quiet: bool,
         **out: Any) -> Totals:
    output = _output(jobs=jobs, **out)
    # Every path is tried before grading: a typo costs a line, not a graded class.
    check_run_paths(source, out_dir, output)
    shard = pipeline.parse_shard(shard_text) if shard_text else None
    if parts_only and shard is None:
        raise UsageError("--parts-only is for a slice graded with --shard K/N, whose pages the "
                         "merge writes")
    if shard is not None and executor == "dask":
        raise UsageError("--shard and --executor dask: the executor makes the shards itself")
    if parts_url is not None and executor != "dask":
        raise UsageError("--parts-url is where Dask workers keep their parts: use it with "
                         "--executor dask")
    limit = parse_memory(memory)
    chosen = chosen_exercises(exercises)
    preflight.verify()
    if executor == "dask":
        return _run_on_dask(source, out_dir, output, scheduler, jobs, package_size, parts_url,
                            quiet, _grade_args(chosen, seed, timeout, submission_timeout, memory,
                                               isolation_minimum, no_plots, force, output.reveal))
    require_isolation(isolation_minimum)
    bound = admit(jobs, limit)
    options = GradeOptions(
        jobs=bound.jobs, exercises=chosen, seed=seed, timeout=timeout,
        submission_timeout=submission_timeout, memory_bytes=limit, plots=not no_plots,
        hide=(str(source.resolve()), str(out_dir.resolve())))
    plan = pipeline.RunPlan(source, out_dir, options, output, force=force, shard=shard,
                            pages=not parts_only)
    run = _grade(plan, quiet)
    if not quiet:
        click.echo(bound.describe())
    return run


def _grade(plan: pipeline.RunPlan, quiet: bool) -> Totals:
    if check.needs_portable():
        raise UsageError("grading needs Linux or macOS: the sandbox that confines student code "
                         "forks processes, which Windows cannot (use WSL: "
                         "https://learn.microsoft.com/windows/wsl/install); `grade check` works "
                         "here, without the sandbox")
    started = time.perf_counter()
    progress = _Progress(quiet)
    try:
        with writing(plan.out_dir):  # the paths were tried first; a full disk still may fail
            report = pipeline.grade(plan, progress.done, on_found=progress.start)
    finally:
        progress.close()
    if not quiet:
        _reuse_summary(report, plan.force)
    book = report.book
    if not quiet:
        book = book or Gradebook.of(report.run)
        _print_end(report.run, book, plan.out_dir, plan.output, time.perf_counter() - started,
                   report.reused, shard=plan.shard)
    # A shard's run gathers no totals while it writes (only its pages): a pass over its results
    # is made only if something reads them.
    return (lambda: book) if book is not None else lambda: Gradebook.of(report.run)


def _print_end(run: GradeRun, book: Gradebook, out_dir: Path, output: OutputOptions,
               seconds: float, reused: frozenset[str], shard: pipeline.Shard | None = None,
               merged: bool = False) -> None:
    for warning in (*run.warnings, *gradebook_warnings(run, output, book)):
        click.echo(f"warning: {warning}", err=True)
    lines = summary_lines(run, out_dir, seconds, set(reused), book)
    if merged:  # nothing was graded here: the shards were
        lines[0] = lines[0].replace("graded", "merged", 1)
    if shard is not None:
        lines[-1] = (f"wrote shard {shard.label}'s parts and feedback pages to {out_dir}; "
                     "`grade merge` writes the class's results from all the shards")
    for line in lines:
        click.echo(line)


def _reuse_summary(report: pipeline.RunReport, force: bool) -> None:
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if force:
        click.echo(f"--force: regraded all {report.total} submission(s)")
    elif report.stale:
        click.echo(f"reused 0 of {report.total} results (the suites, the grader or the grading "
                   "options changed since the last run)")
    elif report.reused:
        click.echo(f"reused {len(report.reused)} of {report.total} results (unchanged)")


def _merge(folders: tuple[Path, ...], out_dir: Path, jobs: int, *, quiet: bool,
           **out: Any) -> Gradebook:
    started = time.perf_counter()
    output = _output(jobs=jobs, **out)
    for folder in folders:
        if not folder.is_dir():
            raise UsageError(f"{folder}: no such folder")
        if folder.resolve() == out_dir.resolve():
            raise UsageError(f"--out {out_dir} is one of the folders to merge; choose another")
    check_folder(out_dir, "--out")
    with writing(out_dir):
        report = merge.merge(list(folders), out_dir, output)
    if not quiet:
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
        _print_end(report.run, report.book, out_dir, output, time.perf_counter() - started,
                   frozenset(), merged=True)
    return report.book


def _run_on_dask(source: Path, out_dir: Path, output: OutputOptions, scheduler: str | None,
                 jobs: int, package_size: int, parts_url: str | None, quiet: bool,
                 grade_args: tuple[str, ...]) -> Totals:
    """Packages of the class graded by `grade run --shard k/N` on the cluster's workers, merged
    here as they arrive."""
    from grader import dask_run  # the optional extra: only this path needs it

    started = time.perf_counter()
    count = len(submissions.find(source))
    # A cluster of our own: one judge per worker, as many workers as --jobs.
    local = ("--jobs", "1") if scheduler is None else ()
    plan = dask_run.DaskPlan(source=source, parts_root=out_dir / dask_run.SHARDS_DIR,
                             packages=dask_run.package_count(count, package_size, SHARD_GRANULE),
                             grade_args=(*grade_args, *local), scheduler=scheduler,
                             workers=jobs, parts_url=parts_url)
    progress = _Progress(quiet)
    progress.start(count, 0)
    arrived: list[merge.Finished] = []

    def done(_k: int, folder: Path) -> None:
        # Checked as it arrives: a package graded otherwise stops the run now, not at the end.
        arrived.append(merge.read_finished(folder))
        merge.check_agreement(arrived[0], arrived[-1])
        for sid in arrived[-1].ids:
            progress.done(sid)
    try:
        folders = dask_run.finished_packages(plan, done)
    finally:
        progress.close()
    with writing(out_dir):
        report = merge.merge(folders, out_dir, output)
    if not quiet:
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"{plan.packages} package(s) graded on "
                   f"{scheduler or f'a local Dask cluster of {jobs} worker(s)'}")
        _print_end(report.run, report.book, out_dir, output, time.perf_counter() - started,
                   frozenset())
    return lambda: report.book


def _grade_args(exercises: tuple[str, ...], seed: int, timeout: float,
                submission_timeout: float, memory: str, isolation_minimum: str, no_plots: bool,
                force: bool, reveal: str) -> tuple[str, ...]:
    """The options a package's `grade run --shard` needs to grade as this command would."""
    args = ["--seed", str(seed), "--timeout", repr(timeout), "--submission-timeout",
            repr(submission_timeout), "--memory", memory, "--isolation-minimum",
            isolation_minimum, "--reveal", reveal]
    for name in exercises:
        args += ["--exercise", name]
    course_dir = os.environ.get(paths.COURSE_VARIABLE)
    if course_dir:
        args += ["--course", course_dir]
    return (*args, *(["--no-plots"] if no_plots else []), *(["--force"] if force else []))


def _check_threshold(book: Gradebook, threshold: float, quiet: bool) -> None:
    below = [s.id for s in book.tallies
             if s.status != "graded" or not s.max_score or 100 * s.score / s.max_score < threshold]
    if below:
        if not quiet:
            names = ", ".join(below[:10]) + (" ..." if len(below) > 10 else "")
            click.echo(f"below {threshold:g}%: {names}", err=True)
        sys.exit(ExitCode.BELOW_THRESHOLD)


class _Progress:
    """A rich progress bar on a terminal, one plain line per submission otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.count, self.total, self.quiet = 0, 0, quiet
        self.bar: Any = None

    def start(self, total: int, _reused: int) -> None:
        """The class is read: `total` submissions are to be graded."""
        self.total = total
        if not self.quiet and total and sys.stderr.isatty():
            from rich.progress import Progress
            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task("grading", total=total)

    def done(self, submission_id: str) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"graded {submission_id}")
        elif not self.quiet:
            click.echo(f"[{self.count}/{self.total}] graded {submission_id}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
