"""The `grade` command line. The only module that knows about click and rich."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from grader import __version__, check, gradescope_mode, gradescope_package, handout, incremental
from grader import cli_course, course, paths, preflight, submissions
from grader.engine import GradeOptions, Judges
from grader.errors import ExitCode, UsageError
from grader.outputs import OutputOptions, check_run_paths, gradebook_warnings, summary_lines
from grader.outputs import write_all, writing
from grader.outputs import check_file, check_handout_path, check_results_path, check_work_paths
from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.reports import gradebook
from grader.reports.gradescope import VISIBILITIES
from grader.sandbox import host
from grader.sandbox.memory import admit

T = TypeVar("T")

EXAMPLES = """
\b
Examples:
  grade examples/submissions --out out          grade a class, one page per student
  grade alice.zip --out out --reveal names      one submission (platform use)
  grade subs --out out --exercise NAME          only that exercise
  grade subs --out out --jobs 4 --seed 7        reproduce a run with its seed
"""


class DefaultGroup(click.Group):
    """`grade PATH ...` runs the default command; `grade check ...` and friends are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:
            # The list of commands, not `grade run`'s usage: whoever types `grade` alone is
            # looking for them. Said here because click before 8.2 would exit 0.
            click.echo(ctx.get_help(), err=True)
            ctx.exit(ExitCode.USAGE_ERROR)
        if args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def parse_memory(text: str) -> int:
    """'1G', '512M', '1.5GiB' or a byte count -> bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", text.lower())
    if not match:
        raise UsageError(f"--memory: cannot read {text!r}; use a size like 512M or 1G")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[match.group(2)]
    size = int(float(match.group(1)) * scale)
    if size < 64 << 20:
        raise UsageError("--memory: at least 64M is needed to start Python and NumPy")
    return size


def _use_course(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """--course: later steps (and the judges) read the course from the environment."""
    if value is not None:
        os.environ[paths.COURSE_VARIABLE] = str(value.resolve())


def _exercises(chosen: tuple[str, ...]) -> tuple[str, ...]:
    """--exercise values checked against the course in use (all of them when none is given)."""
    known = course.exercises()
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise UsageError(f"--exercise {unknown[0]}: the course has no such exercise "
                         f"(it has {', '.join(known)})")
    return tuple(chosen) or known


# Options shared by the commands that grade.
course_option = click.option(
    "--course", type=click.Path(path_type=Path, file_okay=False), callback=_use_course,
    expose_value=False, is_eager=True,
    help=f"The course folder to grade (course.toml, exercises/, reference/); default: the "
         f"bundled course, or ${paths.COURSE_VARIABLE}.")
exercise_option = click.option("--exercise", "exercises", multiple=True,
                               help="Grade only this exercise (repeatable).")
seed_option = click.option("--seed", type=int, default=GradeOptions.seed, show_default=True,
                           help="Seed for random test inputs.")
timeout_option = click.option("--timeout", type=click.FloatRange(0.1, 600), default=2.0,
                              show_default=True,
                              help="Seconds each call into student code may take.")
submission_timeout_option = click.option(
    "--submission-timeout", type=click.FloatRange(1, 3600), default=GradeOptions.submission_timeout,
    show_default=True,
    help="Seconds all the calls of one submission may take together; once spent, its "
         "remaining tests end as timeouts and the class goes on.")
isolation_option = click.option(
    "--isolation-minimum", "isolation_minimum", type=click.Choice(host.LEVELS),
    default=host.DEFAULT_MINIMUM, show_default=True,
    help="Refuse to grade (exit 3) where the host cannot isolate student code this well: "
         "full = own file system view, process and network namespaces; files = none of the "
         "host's files visible; limits = resource limits only.")


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXAMPLES)
@click.version_option(__version__, prog_name="grade")
def main() -> None:
    """Grade a course's NumPy exercises in a sandbox and write feedback pages."""


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
@click.option("--memory", default="1G", show_default=True, help="Memory limit per submission.")
@isolation_option
@click.option("--reveal", type=click.Choice(["none", "names", "all"]), default="none",
              show_default=True, help="What students see of hidden tests.")
@click.option("--roster", type=click.Path(path_type=Path),
              help="CSV with an id column (and name, email, sis_id...) joined into grades.csv.")
@click.option("--gradebook", "layout", type=click.Choice(gradebook.LAYOUTS),
              default="plain", show_default=True, help="Also write an LMS import file.")
@click.option("--assignment", metavar="NAME", help="Assignment column of the canvas or moodle "
              "file.  [default: the course's title]")
@click.option("--assignment-id", type=click.IntRange(1), metavar="N", help="Canvas assignment id "
              "(in its address), so the import updates that assignment.")
@click.option("--junit", type=click.Path(path_type=Path),
              help="Also write JUnit XML to this file (GitLab, Jenkins, GitHub reporters).")
@click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
              help="Exit 1 when a submission scores below this percent (CI use).")
@click.option("--no-plots", is_flag=True, help="Skip sampling functions for the plots.")
@click.option("--no-timings", is_flag=True, help="Leave durations out (byte-identical reruns).")
@click.option("--force", is_flag=True,
              help="Regrade every submission, even those unchanged since the last run into --out.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
def run_command(submissions_path: Path, out_dir: Path, jobs: int, exercises: tuple[str, ...],
                seed: int, timeout: float, submission_timeout: float, memory: str,
                isolation_minimum: str, reveal: str, roster: Path | None, layout: str,
                assignment: str | None, assignment_id: int | None, junit: Path | None,
                fail_under: float | None, no_plots: bool, no_timings: bool, force: bool,
                quiet: bool) -> None:
    """Grade SUBMISSIONS (a folder of submissions, or one submission) into --out.

    A rerun into the same --out reuses the results of submissions that have not changed (nor
    have the suites, the grader or the grading options); --force regrades them all.
    With $GITHUB_STEP_SUMMARY set, a Markdown summary is appended to it.
    """
    summary = os.environ.get("GITHUB_STEP_SUMMARY")

    def work() -> GradeRun:
        header = gradebook.assignment_header(layout, assignment, assignment_id)
        output = OutputOptions(reveal=reveal, roster=roster, layout=layout, assignment=header,
                               include_timings=not no_timings, junit=junit, jobs=jobs,
                               step_summary=Path(summary) if summary else None)
        # Every path is tried before grading: a typo costs a line, not a graded class.
        check_run_paths(submissions_path, out_dir, output)
        limit = parse_memory(memory)
        chosen = _exercises(exercises)
        preflight.verify()
        _require_isolation(isolation_minimum)
        bound = admit(jobs, limit)
        options = GradeOptions(
            jobs=bound.jobs, exercises=chosen, seed=seed, timeout=timeout,
            submission_timeout=submission_timeout, memory_bytes=limit, plots=not no_plots,
            hide=(str(submissions_path.resolve()), str(out_dir.resolve())))
        run = _grade(submissions_path, out_dir, options, quiet, output, force=force)
        if not quiet:
            click.echo(bound.describe())
        return run
    run = _guarded(work)
    if fail_under is not None:
        _check_threshold(run, fail_under, quiet)


def _require_isolation(minimum: str) -> None:
    """Stop before anything is graded where student code would be less isolated than asked."""
    if check.needs_portable():
        return  # refused with its own message by _grade
    host.require(host.probe(), minimum)


def _guarded(work: Callable[[], T]) -> T:
    try:
        return work()
    except (UsageError, host.IsolationRefused) as exc:
        click.echo(f"grade: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE_ERROR if isinstance(exc, UsageError)
                 else ExitCode.ISOLATION_REFUSED)
    except KeyboardInterrupt:
        # Outputs are written atomically, results.json last: whatever is there is a whole run.
        click.echo("grade: interrupted before the run finished", err=True)
        sys.exit(ExitCode.INTERRUPTED)


def _check_threshold(run: GradeRun, threshold: float, quiet: bool) -> None:
    below = [s for s in run.submissions
             if s.status != "graded" or not s.max_score or 100 * s.score / s.max_score < threshold]
    if below:
        if not quiet:
            names = ", ".join(s.id for s in below[:10]) + (" ..." if len(below) > 10 else "")
            click.echo(f"below {threshold:g}%: {names}", err=True)
        sys.exit(ExitCode.BELOW_THRESHOLD)


def _grade(source: Path, out_dir: Path, options: GradeOptions, quiet: bool,
           output: OutputOptions, *, force: bool = False) -> GradeRun:
    if check.needs_portable():
        raise UsageError("grading needs Linux or macOS: the sandbox that confines student code "
                         "forks processes, which Windows cannot (use WSL: "
                         "https://learn.microsoft.com/windows/wsl/install); `grade check` works "
                         "here, without the sandbox")
    started = time.perf_counter()
    key = incremental.run_key(options)
    previous = incremental.Previous(None, None) if force else incremental.load_previous(out_dir)
    # The judges start first: their imports overlap the reading of the submissions.
    with Judges(options, submissions.rough_count(source)) as judges, \
            tempfile.TemporaryDirectory(prefix=f"grader-{os.getpid()}-unpack-") as unpack:
        found = submissions.discover(source, Path(unpack))
        plan = incremental.split(found, previous, key)
        progress = _Progress(len(plan.regrade), quiet)
        fresh = judges.grade(list(plan.regrade), progress.done) if plan.regrade else None
        progress.close()
    run = incremental.merge(plan, fresh, previous.run)
    with writing(out_dir):  # the paths were tried before grading; a full disk still may fail
        write_all(run, out_dir, output)
        # After results.json: a run killed in between leaves a cache that only forces regrades.
        incremental.save_cache(out_dir, incremental.build_cache(run, found, key))
    if not quiet:
        _reuse_summary(previous, plan, len(found), force)
        for warning in (*run.warnings, *gradebook_warnings(run, output)):
            click.echo(f"warning: {warning}", err=True)
        for line in summary_lines(run, out_dir, time.perf_counter() - started,
                                  {r.id for r in plan.reuse}):
            click.echo(line)
    return run


def _reuse_summary(previous: incremental.Previous, plan: incremental.Split, total: int,
                   force: bool) -> None:
    for note in previous.notes:
        click.echo(f"note: {note}", err=True)
    if force:
        click.echo(f"--force: regraded all {total} submission(s)")
    elif plan.key_changed:
        click.echo(f"reused 0 of {total} results (the suites, the grader or the grading options "
                   "changed since the last run)")
    elif previous.cache is not None:
        click.echo(f"reused {len(plan.reuse)} of {total} results (unchanged)")


class _Progress:
    """A rich progress bar on a terminal, one plain line per submission otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.count, self.total, self.quiet = 0, total, quiet
        self.bar: Any = None
        if not quiet and sys.stderr.isatty():
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


# -- platform commands: handouts, students' own checks, Gradescope ---------------------------


@main.command("handout")
@course_option
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path),
              help="Folder to create (missing or empty), or a file ending in .zip.")
def handout_command(out: Path) -> None:
    """Build what students receive: each exercise's stub, README and public checks.

    Nothing of reference/ (solutions, hidden suites) is included.
    """
    def build() -> tuple[Path, handout.Handout]:
        check_handout_path(out)
        with writing(out):
            return handout.write_handout(out)
    written, built = _guarded(build)
    for note in built.skipped:
        click.echo(f"note: skipped exercises/{note}", err=True)
    exercises = [e for e in course.exercises() if any(n.startswith(f"exercises/{e}/")
                                                       for n in built.files)]
    click.echo(f"wrote {len(built.files)} files ({', '.join(exercises)}) to {written}")


@main.command("check")
@click.argument("folder", required=False, default=".", type=click.Path(path_type=Path))
@click.option("--out", "-o", "out_dir", type=click.Path(path_type=Path),
              help="Folder for the feedback page.  [default: FOLDER/feedback]")
@course_option
@click.option("--exercise", "exercises", multiple=True,
              help="Check only this exercise (repeatable); default: every exercise you have a "
                   "file for.")
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=2.0, show_default=True,
              help="Seconds each call into your code may take.")
@click.option("--open", "open_page", is_flag=True, help="Open the feedback page in a browser.")
def check_command(folder: Path, out_dir: Path | None, exercises: tuple[str, ...],
                  timeout: float, open_page: bool) -> None:
    """Check your own work in FOLDER (default: here) with the public tests.

    Runs them in the same sandbox as the course's grader and prints, per function, whether it
    passed and, for each failure, what went wrong and a hint. Hidden tests are not run.
    Exits 1 when a check failed on a function you have begun (stubs not started do not count).
    """
    def work() -> check.CheckReport:
        check_work_paths(folder, out_dir, check.FEEDBACK_DIR)
        click.echo(f"checking {folder} with the public tests...", err=True)
        with writing(out_dir or folder / check.FEEDBACK_DIR):
            preflight.verify()
            return check.run_check(folder, out_dir, exercises=_exercises(exercises),
                                   timeout=timeout)
    report = _guarded(work)
    _print_check(report)
    if open_page:
        import webbrowser
        webbrowser.open(report.page.resolve().as_uri())
    # Non-zero when a check failed, so that a student's script or CI can stop on it.
    sys.exit(report.exit_code)


def _print_check(report: check.CheckReport) -> None:
    exercise = None
    for item in report.functions:
        if item.exercise != exercise:
            exercise = item.exercise
            click.echo(click.style(f"\n{exercise}.py", bold=True))
        if item.not_started and item.failures:
            # One line, not a screen of identical hints, for the functions not begun yet.
            click.echo(f"  {click.style(' TODO ', fg='yellow')} {item.function}  "
                       "(still the handout's stub: replace its `raise NotImplementedError`)")
            continue
        ok = not item.failures
        mark = click.style(" PASS ", fg="green") if ok else click.style(" FAIL ", fg="red")
        click.echo(f"  {mark} {item.function}  ({item.passed}/{item.total} checks)")
        for test in item.failures:
            _print_failure(test)
    for problem in report.result.problems:
        click.echo(f"note: {problem}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    result = report.result
    click.echo(f"\npublic checks: {result.score:g} / {result.max_score:g} points "
               f"(hidden tests add more when your work is graded)")
    click.echo(f"feedback page: {report.page}")


def _print_failure(test: TestOutcome) -> None:
    indent = " " * 9
    click.echo(f"{indent}{click.style(test.name or test.id, bold=True)}")
    for line in (test.message or f"test {test.outcome}").splitlines():
        click.echo(f"{indent}  {line}")
    if test.misconception:
        click.echo(f"{indent}  What went wrong: {test.misconception}")
    for hint in test.hints:
        click.echo(f"{indent}  {click.style('Hint:', fg='yellow')} {hint}")


@main.command("gradescope")
@course_option
@click.option("--submission", "submission_dir", type=click.Path(path_type=Path),
              default=gradescope_mode.SUBMISSION_DIR, show_default=True,
              help="The student's files, as Gradescope provides them.")
@click.option("--results", type=click.Path(path_type=Path),
              default=gradescope_mode.RESULTS_FILE, show_default=True,
              help="Where Gradescope reads the results.")
@click.option("--reveal", type=click.Choice(VISIBILITIES), default="after_published",
              show_default=True, help="Gradescope visibility of hidden tests (they show the "
                                      "misconception and hint, never the failure message).")
@exercise_option
@seed_option
@timeout_option
@submission_timeout_option
@click.option("--memory", default="1G", show_default=True, help="Memory limit.")
@isolation_option
def gradescope_command(submission_dir: Path, results: Path, reveal: str,
                       exercises: tuple[str, ...], seed: int, timeout: float,
                       submission_timeout: float, memory: str, isolation_minimum: str) -> None:
    """Grade the one submission of a Gradescope autograder run (used by run_autograder)."""
    def prepare() -> GradeOptions:
        check_results_path(results, submission_dir)
        limit = parse_memory(memory)
        preflight.verify()
        try:
            _require_isolation(isolation_minimum)
        except host.IsolationRefused:
            # The student still gets a result that says it was not their work that failed.
            gradescope_mode.write_not_graded(results, gradescope_mode.REFUSED)
            raise
        return GradeOptions(jobs=1, exercises=_exercises(exercises), seed=seed,
                            timeout=timeout, submission_timeout=submission_timeout,
                            memory_bytes=limit)
    options = _guarded(prepare)

    def grade_one() -> SubmissionResult:
        with writing(results):
            return gradescope_mode.run_gradescope(submission_dir, results, options,
                                                  reveal_hidden=reveal)
    result = _guarded(grade_one)
    click.echo(f"{result.id}: {result.status}, {result.score:g} / {result.max_score:g}"
               f"{f' ({result.error})' if result.error else ''}; wrote {results}")


@main.command("gradescope-package")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("autograder.zip"), show_default=True, help="The zip to write.")
def gradescope_package_command(out: Path) -> None:
    """Build the autograder zip to upload to Gradescope (setup.sh, run_autograder, the grader)."""
    def build() -> list[str]:
        check_file(out, "--out")
        with writing(out):
            return gradescope_package.build_package(out)
    names = _guarded(build)
    click.echo(f"wrote {out} ({len(names)} files); upload it on the assignment's "
               "Configure Autograder page")


cli_course.register(main, _guarded)
