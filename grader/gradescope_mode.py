"""`grade gradescope`: grade the one submission of a Gradescope autograder run.

Gradescope unpacks the autograder zip into /autograder/source, puts the student's files in
/autograder/submission and reads /autograder/results/results.json when run_autograder exits
(Autograder Specifications, "File hierarchy"). The results file is written whatever happens to
the submission, so the student always sees a score and a reason.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable

from grader import __version__, single
from grader.engine import GradeOptions, grade_submissions
from grader.errors import UsageError
from grader.records import GradeRun, Submission, SubmissionResult
from grader.reports.gradescope import write_gradescope

SUBMISSION_DIR = Path("/autograder/submission")
RESULTS_FILE = Path("/autograder/results/results.json")
SUBMISSION_ID = "submission"


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
    options = GradeOptions(jobs=1, exercises=options.exercises, seed=options.seed,
                           timeout=options.timeout, memory_bytes=options.memory_bytes,
                           plots=False, hide=hide)
    try:
        if submission.error is not None:
            run = _unreadable(submission, options)
        else:
            run = grade_submissions([submission], options, on_done)
    except Exception:
        # Without a results file Gradescope shows only a bare "autograder failed"; the student
        # learns it is not their fault, and the traceback still reaches the instructor's stdout.
        failed = dataclasses.replace(submission, error=(
            "the autograder itself failed while grading this submission; "
            "please tell your instructor"))
        run = _unreadable(failed, options)
        write_gradescope(run.submissions[0], run, results,
                         execution_time=time.perf_counter() - started, reveal_hidden=reveal_hidden)
        raise
    result = run.submissions[0]
    write_gradescope(result, run, results, execution_time=time.perf_counter() - started,
                     reveal_hidden=reveal_hidden)
    return result
