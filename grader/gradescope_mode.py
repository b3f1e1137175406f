"""`grade gradescope`: grade the one submission of a Gradescope autograder run.

Gradescope unpacks the autograder zip into /autograder/source, puts the student's files in
/autograder/submission and reads /autograder/results/results.json when run_autograder exits
(Autograder Specifications, "File hierarchy"). The results file is written whatever happens to
the submission, so the student always sees a score and a reason.

`python -m grader.gradescope_mode STATUS` is run_autograder's fallback for when `grade gradescope`
ended without writing one (it refused a host that cannot isolate student code, exit 3, or
failed before grading): a score of 0 and a sentence saying why, rather than Gradescope's bare
"autograder failed".
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Callable

from grader import __version__, single
from grader.engine import GradeOptions, grade_submissions
from grader.errors import ExitCode, UsageError
from grader.records import GradeRun, Submission, SubmissionResult
from grader.reports.gradescope import write_gradescope

SUBMISSION_DIR = Path("/autograder/submission")
RESULTS_FILE = Path("/autograder/results/results.json")
SUBMISSION_ID = "submission"
#: What the student reads when nothing was graded; the instructor finds the cause in the
#: autograder's output (stdout, hidden from students).
NOT_YOUR_FAULT = "this is not a problem with your work: please tell your instructor"
REFUSED = ("the autograder's host could not isolate student code, so none of it was run; "
           + NOT_YOUR_FAULT)
FAILED = "the autograder failed before grading this submission; " + NOT_YOUR_FAULT
CRASHED = "the autograder itself failed while grading this submission; " + NOT_YOUR_FAULT


def _unreadable(submission: Submission, options: GradeOptions) -> GradeRun:
    """A run for a submission that has nothing to grade; the engine has nothing to run."""
    result = SubmissionResult(id=submission.id, status="error", score=0.0, max_score=0.0,
                              tests=(), error=submission.error, problems=submission.problems)
    return GradeRun(grader_version=__version__, seed=options.seed, isolation="none",
                    submissions=(result,))


def load_submission(folder: Path) -> Submission:
    """The student's files as one submission; an error submission when there is nothing to grade."""
    try:
        return single.discover_one(folder, SUBMISSION_ID)
    except UsageError as exc:
        # Gradescope needs a results file even for an empty upload: the reason becomes its output.
        return Submission(SUBMISSION_ID, {}, (), SUBMISSION_ID, str(exc))


def run_gradescope(submission_dir: Path, results: Path, options: GradeOptions, *,
                   reveal_hidden: str = "after_published",
                   on_done: Callable[[str], None] = lambda _id: None) -> SubmissionResult:
    """Grade the submission in submission_dir and write Gradescope's results.json to results."""
    started = time.perf_counter()
    submission = load_submission(submission_dir)
    hide = (*options.hide, str(submission_dir.resolve()), str(results.parent.resolve()))
    # One submission: one judge; nobody sees plots on Gradescope. Everything else (timeouts,
    # the submission's budget, memory) is as the command line set it.
    options = dataclasses.replace(options, jobs=1, plots=False, hide=hide)
    try:
        if submission.error is not None:
            run = _unreadable(submission, options)
        else:
            run = grade_submissions([submission], options, on_done)
    except Exception:
        # Without a results file Gradescope shows only a bare "autograder failed"; the student
        # learns it is not their fault, and the traceback still reaches the instructor's stdout.
        failed = dataclasses.replace(submission, error=CRASHED)
        run = _unreadable(failed, options)
        write_gradescope(run.submissions[0], run, results,
                         execution_time=time.perf_counter() - started, reveal_hidden=reveal_hidden)
        raise
    result = run.submissions[0]
    write_gradescope(result, run, results, execution_time=time.perf_counter() - started,
                     reveal_hidden=reveal_hidden)
    return result


def write_not_graded(results: Path, reason: str) -> None:
    """Write a results.json with a score of 0 whose output says why nothing was graded."""
    submission = Submission(SUBMISSION_ID, {}, (), SUBMISSION_ID, reason)
    run = _unreadable(submission, GradeOptions(jobs=1))
    write_gradescope(run.submissions[0], run, results, execution_time=0)


def not_graded_reason(status: int) -> str:
    """The student's sentence for the exit status of a `grade gradescope` that wrote nothing."""
    return REFUSED if status == ExitCode.ISOLATION_REFUSED else FAILED


def main(argv: list[str]) -> int:
    """`python -m grader.gradescope_mode STATUS [RESULTS]`: write the results of a run that
    graded nothing, STATUS being the exit status of `grade gradescope`."""
    if len(argv) not in (1, 2) or not argv[0].lstrip("-").isdigit():
        print("usage: python -m grader.gradescope_mode STATUS [RESULTS]", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    results = Path(argv[1]) if len(argv) == 2 else RESULTS_FILE
    write_not_graded(results, not_graded_reason(int(argv[0])))
    print(f"grade gradescope exited {argv[0]} without results; wrote {results} (score 0)")
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
