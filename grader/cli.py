"""The `grade` command line. The only module that knows about click and rich."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader import __version__, check, gradescope_mode, gradescope_package, handout
from grader import cli_course, cli_run, course, preflight
from grader.cli_common import chosen_exercises as _exercises, course_option, exercise_option
from grader.cli_common import guarded as _guarded, isolation_option, parse_memory
from grader.cli_common import require_isolation as _require_isolation, seed_option
from grader.cli_common import submission_timeout_option, timeout_option
from grader.engine import GradeOptions
from grader.errors import ExitCode
from grader.outputs import check_file, check_handout_path, check_results_path, check_work_paths
from grader.outputs import writing
from grader.records import SubmissionResult, TestOutcome
from grader.reports.gradescope import VISIBILITIES
from grader.sandbox import host

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


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=cli_run.EXAMPLES)
@click.version_option(__version__, prog_name="grade")
def main() -> None:
    """Grade a course's NumPy exercises in a sandbox and write feedback pages."""


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


cli_run.register(main)
cli_course.register(main, _guarded)
