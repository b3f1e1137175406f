"""Writes a GradeRun to the output folder: results.json, grades.csv, feedback pages, index.html.

Every file is written atomically and only inside the output folder. Every path a user names is
checked here before any work starts (check_folder, check_file, check_run_paths), so a mistake
costs a one-line message instead of a graded class and a traceback.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jinja2

from grader.atomic import flush_all, probe_folder, safe_child, write_text_atomic
from grader.errors import UsageError
from grader import course
from grader.records import GradeRun, SubmissionResult
from grader.reports import gradebook, html, junit, results_json, step_summary
from grader.reports.context import run_footer
from grader.reports.index_context import IndexBuilder
from grader.reports.tally import tally


@dataclass(frozen=True)
class OutputOptions:
    """What to write besides the defaults."""

    reveal: str = "none"
    """How much of hidden tests a student's page shows: none, names or all."""
    roster: Path | None = None
    """Optional roster CSV joined into grades.csv."""
    layout: str = "plain"
    """An extra gradebook layout written beside grades.csv: canvas or moodle (plain: none)."""
    include_timings: bool = True
    """Keep test durations in results.json (off makes reruns byte-identical)."""
    junit: Path | None = None
    """Also write JUnit XML here (one testcase per test)."""
    step_summary: Path | None = None
    """Append a Markdown summary here (GitHub Actions' $GITHUB_STEP_SUMMARY)."""
    jobs: int = 1
    """Processes that render feedback pages side by side."""
    assignment: str = gradebook.DEFAULT_ASSIGNMENT
    """Header of the assignment column of the canvas and moodle layouts."""


@dataclass(frozen=True)
class Written:
    """What write_outputs wrote, and what it kept of the class on the way."""

    files: list[Path]
    """The files about the class as a whole, results.json last (the step summary, only
    appended to, is not one)."""
    pages: int
    """Feedback pages written, one per submission: counted, not listed, so that the output
    phase holds nothing per student but its totals."""
    book: gradebook.Gradebook
    """Every submission's totals: what gradebook_warnings and summary_lines read instead of
    passing over the class again."""


def write_all(run: GradeRun, out_dir: Path, options: OutputOptions) -> Written:
    """Write every output of a run (see write_outputs)."""
    return write_outputs(run, out_dir, options)


def write_outputs(run: GradeRun, out_dir: Path, options: OutputOptions) -> Written:
    """Write every output of a run in one pass over its submissions.

    Each result feeds every class-wide output as it goes by and is then let go, so a class read
    back from disk one result at a time is never held whole. results.json goes last: a run
    killed midway leaves the previous results.json (or none), never one that points at pages
    not yet written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out_dir)
    roster = gradebook.load_roster(options.roster) if options.roster else None
    with contextlib.ExitStack() as files:
        outputs = _ClassOutputs(run, out_dir, options, files)
        pages = _write_pages(run, out_dir, options, lambda: None, outputs)
        written = outputs.finish(roster)
        flush_all()  # the pages reach the disk before the results.json that lists them
        written.append(outputs.commit_results())
    if options.step_summary is not None:
        with options.step_summary.open("a", encoding="utf-8") as summary:
            summary.writelines(f"{line}\n" for line in outputs.summary.lines())
            summary.write("\n")
    return Written(written, pages, outputs.book)


class _ClassOutputs:
    """Every output about the class as a whole, fed one submission at a time."""

    def __init__(self, run: GradeRun, out_dir: Path, options: OutputOptions,
                 files: contextlib.ExitStack) -> None:
        self._run, self._out_dir, self._options, self._files = run, out_dir, options, files
        self.book = gradebook.Gradebook()
        self._index = IndexBuilder()
        self.summary = step_summary.SummaryBuilder(reveal=options.reveal, warnings=run.warnings)
        self._results: results_json.ResultsWriter | None = None
        self._junit: junit.JunitWriter | None = None

    def start(self) -> None:
        """Open the files written during the pass: after the render workers are forked, so
        that none of them inherits one."""
        self._results = self._files.enter_context(results_json.ResultsWriter(
            self._out_dir, self._run, include_timings=self._options.include_timings))
        if self._options.junit is not None:
            self._junit = self._files.enter_context(
                junit.JunitWriter(self._options.junit, self._run, reveal=self._options.reveal))

    def add(self, result: SubmissionResult) -> None:
        """Feed one submission to every output."""
        assert self._results is not None, "start() opens the files first"
        totals = tally(result)
        self.book.add(totals)
        self._index.add(result, totals)
        if self._options.step_summary is not None:
            self.summary.add(result, totals)
        self._results.add(result)
        if self._junit is not None:
            self._junit.add(result)

    def finish(self, roster: gradebook.Roster | None) -> list[Path]:
        """Write index.html, the gradebooks and the JUnit report; their paths."""
        index = self._out_dir / "index.html"
        html.write_index_page(html.make_environment(), self._index.page(run_footer(self._run)),
                              index)
        written = [index, gradebook.write_grades_csv(self.book, self._out_dir,
                                                     exercises=course.exercises(), roster=roster)]
        if self._options.layout != "plain":
            written.append(gradebook.write_grades_csv(
                self.book, self._out_dir, exercises=course.exercises(), roster=roster,
                layout=self._options.layout, assignment=self._options.assignment))
        if self._junit is not None:
            written.append(self._junit.finish())
        return written

    def commit_results(self) -> Path:
        """Put results.json in place."""
        assert self._results is not None, "start() opens the files first"
        return self._results.commit()


#: The run being rendered, inherited by forked render workers instead of being pickled to them.
_RUN: GradeRun | None = None
#: Fewest pages per process worth a fork: a worker costs about as much CPU as rendering and
#: writing a few dozen pages, for a smaller class it would cost more than it saves in time.
PAGES_PER_JOB = 100
#: Pages this process renders before forking, to warm what the workers inherit.
WARM_PAGES = 2


def write_pages(run: GradeRun, out_dir: Path, options: OutputOptions) -> int:
    """Only the feedback pages (how many): a slice's part of a class whose other outputs are
    written later, for the whole class at once."""
    return _write_pages(run, out_dir, options, lambda: None)


def _write_pages(run: GradeRun, out_dir: Path, options: OutputOptions,
                 meanwhile: Callable[[], None], outputs: _ClassOutputs | None = None) -> int:
    """Every student's feedback page (how many), with the one pass over the class that feeds `outputs`
    made alongside, and then `meanwhile()`; for a large class `jobs` forked workers render the
    pages while this process makes the pass and runs `meanwhile()`."""
    global _RUN
    count = len(run.submissions)
    jobs = min(options.jobs, max(1, count // PAGES_PER_JOB))
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        env = html.make_environment()
        if outputs is not None:
            outputs.start()
        pages = 0
        for result in run.submissions:  # each page in the same pass
            _render_page(env, run, result, out_dir, options.reveal)
            pages += 1
            if outputs is not None:
                outputs.add(result)
        meanwhile()
        return pages
    # Pages rendered before the fork leave compiled templates and the class's most common charts
    # and sections in memory, for the workers to inherit instead of making them again.
    html.load_feedback_templates(html.make_environment())
    pages = _render_range(run, out_dir, options.reveal, 0, WARM_PAGES)
    step = -(-(count - WARM_PAGES) // jobs)
    _RUN = run
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            parts = pool.map(_render_forked, [(out_dir, options.reveal, i, min(count, i + step))
                                              for i in range(WARM_PAGES, count, step)])
            if outputs is not None:
                outputs.start()
                for result in run.submissions:
                    outputs.add(result)
            meanwhile()
            return pages + sum(parts)
    finally:
        _RUN = None


def _render_forked(task: tuple[Path, str, int, int]) -> int:
    assert _RUN is not None
    return _render_range(_RUN, *task)


def _render_range(run: GradeRun, out_dir: Path, reveal: str, start: int, stop: int) -> int:
    env = html.make_environment()
    # One result at a time, by index: a slice of a class read from disk could be read whole.
    for i in range(start, stop):
        _render_page(env, run, run.submissions[i], out_dir, reveal)
    return max(0, stop - start)


def _render_page(env: jinja2.Environment, run: GradeRun, result: SubmissionResult,
                 out_dir: Path, reveal: str) -> None:
    page = safe_child(out_dir, result.id, "feedback.html")
    page.parent.mkdir(exist_ok=True)
    # Flushed to disk all at once by write_outputs, before results.json (an fsync per page
    # was half the time of writing it).
    write_text_atomic(page, html.render_feedback(env, run, result, reveal=reveal), durable=False)


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Drop the temporary files of an earlier run that was killed while writing."""
    for pattern in (".*.tmp", "*/.*.tmp"):
        for stale in out_dir.glob(pattern):
            if stale.is_file() and not stale.is_symlink():
                stale.unlink()


def gradebook_warnings(run: GradeRun, options: OutputOptions,
                       book: gradebook.Gradebook | None = None) -> list[str]:
    """What the instructor must know before importing the LMS file written for run; book, when
    given, is write_outputs's (Written.book), which spares a pass over the class."""
    roster = gradebook.load_roster(options.roster) if options.roster else None
    return gradebook.import_warnings(run if book is None else book, roster, options.layout,
                                     options.assignment)


def summary_lines(run: GradeRun, out_dir: Path, seconds: float, reused: set[str],
                  book: gradebook.Gradebook | None = None) -> list[str]:
    """What a run prints when it ends; `reused` holds the ids whose earlier results were kept;
    book, when given, is write_outputs's (Written.book), which spares a pass over the class."""
    students = (gradebook.Gradebook.of(run) if book is None else book).tallies
    graded = [s for s in students if s.status == "graded"]
    errors = len(students) - len(graded)
    mean = (sum(s.score / s.max_score for s in graded if s.max_score) / len(graded) * 100
            if graded else 0.0)
    # The reused results were graded by an earlier run: counted apart, so the time reads right.
    fresh = sum(s.id not in reused for s in graded)
    done = f"reused {len(reused)}, graded {fresh}" if reused else f"graded {fresh}"
    return [f"{done} submission(s) in {seconds:.1f} s"
            f"{f', {errors} could not be graded' if errors else ''}; "
            f"mean score {gradebook.round_percent(mean):g}%",
            f"seed {run.seed}; isolation {run.isolation}",
            f"wrote {out_dir / 'results.json'}, {out_dir / 'grades.csv'}, "
            f"{out_dir / 'index.html'} and one feedback.html per student"]


# -- the paths a user names, checked before any work ------------------------------------------

#: Files written straight into the output folder, which --junit must not name.
OUT_FILES = frozenset({"results.json", "grades.csv", "grades-canvas.csv", "grades-moodle.csv",
                       "index.html", ".parts", ".shards"})


class OutputError(UsageError):
    """An output that could not be written after all (disk full, permissions changed during the
    run); reported in one line like a usage mistake."""


@contextlib.contextmanager
def writing(target: Path) -> Iterator[None]:
    """Turn an OSError raised while writing under target into one line naming the file."""
    try:
        yield
    except OSError as exc:
        where = exc.filename if exc.filename is not None else target
        raise OutputError(f"cannot write {where}: {_reason(exc)}") from None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _file_in_the_way(folder: Path) -> Path | None:
    """The first of folder and its parents (as the user wrote them) that exists as a non-folder."""
    for path in (folder, *folder.parents):
        if path.exists():
            return None if path.is_dir() else path
        if path.is_symlink():
            return path  # a dangling link: nothing can be created through it
    return None


def check_folder(folder: Path, label: str) -> None:
    """UsageError unless files can be written in folder (created if missing); the file system is
    left as it was."""
    blocker = _file_in_the_way(folder)
    if blocker == folder:
        raise UsageError(f"{label} {folder}: exists and is not a folder")
    if blocker is not None:
        raise UsageError(f"{label} {folder}: {blocker} is a file, not a folder")
    existed = folder.is_dir()
    try:
        probe_folder(folder)
    except OSError as exc:
        doing = "cannot write in this folder" if existed else "cannot create this folder"
        raise UsageError(f"{label} {folder}: {doing} ({_reason(exc)})") from None


def check_file(path: Path, label: str) -> None:
    """UsageError unless a file can be written at path (its folder created if missing)."""
    if path.is_dir():
        raise UsageError(f"{label} {path}: is a folder, not a file")
    blocker = _file_in_the_way(path.parent)
    if blocker is not None:
        raise UsageError(f"{label} {path}: {blocker} is a file, not a folder")
    existed = path.parent.is_dir()
    try:
        probe_folder(path.parent)
    except OSError as exc:
        doing = "cannot write a file in" if existed else "cannot create the folder"
        raise UsageError(f"{label} {path}: {doing} {path.parent} ({_reason(exc)})") from None


def _inside(path: Path, folder: Path) -> bool:
    """Whether path is folder or below it, links resolved."""
    inner, outer = path.resolve(), folder.resolve()
    return inner == outer or outer in inner.parents


def check_run_paths(source: Path, out_dir: Path, options: OutputOptions) -> None:
    """UsageError for the first path of `grade run` that is missing, misplaced or unwritable."""
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    if _inside(out_dir, source):
        raise UsageError(f"the output folder {out_dir} is inside the submissions {source}; "
                         "choose a folder outside it")
    if _inside(source, out_dir):
        raise UsageError(f"the submissions {source} are inside the output folder {out_dir}")
    if options.roster is not None:
        _check_roster(options.roster)
    check_folder(out_dir, "--out")
    if options.junit is not None:
        _check_junit(options.junit, source, out_dir, options.roster)
    if options.step_summary is not None:
        check_file(options.step_summary, "$GITHUB_STEP_SUMMARY")


def _check_roster(roster: Path) -> None:
    if not roster.exists():
        raise UsageError(f"--roster {roster}: no such file")
    if roster.is_dir():
        raise UsageError(f"--roster {roster}: is a folder, not a CSV file")
    gradebook.load_roster(roster)  # its own one-line messages for a malformed file


def _check_junit(junit: Path, source: Path, out_dir: Path, roster: Path | None) -> None:
    if _inside(junit, source):
        raise UsageError(f"--junit {junit} is inside the submissions {source}; "
                         "choose a file outside them")
    if _inside(out_dir, junit):
        raise UsageError(f"--junit {junit}: the output folder {out_dir} goes there; "
                         "choose another file")
    if junit.resolve().parent == out_dir.resolve() and junit.name in OUT_FILES:
        raise UsageError(f"--junit {junit}: grade writes its own {junit.name} there; "
                         "choose another name")
    if roster is not None and junit.resolve() == roster.resolve():
        raise UsageError(f"--junit {junit} is the roster; choose another file")
    check_file(junit, "--junit")


def check_handout_path(out: Path) -> None:
    """`grade handout --out`: a zip file, or a folder."""
    if out.suffix.lower() == ".zip":
        check_file(out, "--out")
    elif out.is_dir() and any(out.iterdir()):
        # An old handout is not merged into: said before the handout is built.
        raise UsageError(f"--out {out}: exists and is not empty; remove it or choose another")
    else:
        check_folder(out, "--out")


def check_work_paths(folder: Path, out_dir: Path | None, feedback: str) -> None:
    """`grade check [FOLDER] [--out DIR]`; a missing FOLDER is left to the check's own message."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file; run `grade check` in the folder that holds it")
    if out_dir is not None:
        check_folder(out_dir, "--out")
    elif folder.is_dir():
        check_folder(folder / feedback, "feedback folder")


def check_results_path(results: Path, submission_dir: Path) -> None:
    """`grade gradescope --results`: a file outside the student's files."""
    if submission_dir.exists() and _inside(results, submission_dir):
        raise UsageError(f"--results {results} is inside the submission {submission_dir}; "
                         "choose a file outside it")
    check_file(results, "--results")
