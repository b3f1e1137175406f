"""Writes a GradeRun to the output folder: results.json, grades.csv, feedback pages, index.html.

Every file is written atomically and only inside the output folder.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.atomic import flush_all, safe_child, write_text_atomic
from grader.records import EXERCISES, GradeRun
from grader.reports import gradebook, html, junit, results_json


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


def write_all(run: GradeRun, out_dir: Path, options: OutputOptions) -> list[Path]:
    """Write every output of a run; return the paths written.

    results.json goes last: a run killed midway leaves the previous results.json (or none), never
    one that points at pages not yet written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out_dir)
    texts: dict[str, str] = {}

    def meanwhile() -> None:  # while forked workers render the pages
        texts["index"] = html.render_index(html.make_environment(), run)
        texts["results"] = results_json.dumps_results(run, include_timings=options.include_timings)

    written = _write_pages(run, out_dir, options, meanwhile)
    index = out_dir / "index.html"
    write_text_atomic(index, texts["index"])
    written.append(index)
    roster = gradebook.load_roster(options.roster) if options.roster else None
    written.append(gradebook.write_grades_csv(run, out_dir, exercises=EXERCISES, roster=roster))
    if options.layout != "plain":
        written.append(gradebook.write_grades_csv(run, out_dir, exercises=EXERCISES, roster=roster,
                                                  layout=options.layout))
    if options.junit is not None:
        written.append(junit.write_junit(run, options.junit))
    flush_all()  # the pages reach the disk before the results.json that lists them
    written.append(results_json.save_results_text(out_dir, texts["results"]))
    if options.step_summary is not None:
        with options.step_summary.open("a", encoding="utf-8") as summary:
            summary.write(junit.github_summary_markdown(run) + "\n")
    return written


#: The run being rendered, inherited by forked render workers instead of being pickled to them.
_RUN: GradeRun | None = None
#: Fewest pages per process worth a fork: a worker costs about as much CPU as rendering and
#: writing a few dozen pages, for a smaller class it would cost more than it saves in time.
PAGES_PER_JOB = 100
#: Pages this process renders before forking, to warm what the workers inherit.
WARM_PAGES = 2


def _write_pages(run: GradeRun, out_dir: Path, options: OutputOptions,
                 meanwhile: Callable[[], None]) -> list[Path]:
    """Every student's feedback page, and `meanwhile()` run alongside; for a large class `jobs`
    forked workers render the pages while this process runs `meanwhile()`."""
    global _RUN
    count = len(run.submissions)
    jobs = min(options.jobs, max(1, count // PAGES_PER_JOB))
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        pages = _render_range(run, out_dir, options.reveal, 0, count)
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
            meanwhile()
            return pages + [page for part in parts for page in part]
    finally:
        _RUN = None


def _render_forked(task: tuple[Path, str, int, int]) -> list[Path]:
    assert _RUN is not None
    return _render_range(_RUN, *task)


def _render_range(run: GradeRun, out_dir: Path, reveal: str, start: int, stop: int) -> list[Path]:
    env = html.make_environment()
    pages = []
    for result in run.submissions[start:stop]:
        page = safe_child(out_dir, result.id, "feedback.html")
        page.parent.mkdir(exist_ok=True)
        # Flushed to disk all at once by write_all, before results.json (an fsync per page
        # was half the time of writing it).
        write_text_atomic(page, html.render_feedback(env, run, result, reveal=reveal),
                          durable=False)
        pages.append(page)
    return pages


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Drop the temporary files of an earlier run that was killed while writing."""
    for pattern in (".*.tmp", "*/.*.tmp"):
        for stale in out_dir.glob(pattern):
            if stale.is_file() and not stale.is_symlink():
                stale.unlink()
