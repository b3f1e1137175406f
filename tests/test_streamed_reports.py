"""The class-wide outputs are written in one pass that holds one result at a time.

A class graded into parts is read back from disk a result at a time (a new object on every
access), so write_all must never gather the class's results: `LazyResults` stands in for such a
sequence, parsing each result afresh and counting how many are alive at once.
"""

from __future__ import annotations

import gc
import json
import random
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import overload

import pytest

from grader import course
from grader.outputs import OutputOptions, gradebook_warnings, summary_lines, write_all
from grader.outputs import write_outputs
from grader.records import Curve, Entry, GradeRun, SubmissionResult
from grader.reports import gradebook, junit, step_summary
from grader.reports.context import run_footer
from grader.reports.index_context import IndexBuilder, index_page
from grader.reports.results_json import _submission_from_dict, dumps_results, submission_json
from tests.test_index_page import make_class, small_template


class LazyResults(Sequence[SubmissionResult]):
    """results.json rows parsed into a new SubmissionResult on every access, as a class read
    back from disk is; counts the results alive at once, the passes and the lookups."""

    def __init__(self, rows: Sequence[str]) -> None:
        self._rows = tuple(rows)
        self.alive = 0
        self.most_alive = 0
        self.iterations = 0
        self.lookups = 0
        self.slices = 0

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> SubmissionResult: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[SubmissionResult]: ...

    def __getitem__(self, i: int | slice) -> SubmissionResult | Sequence[SubmissionResult]:
        if isinstance(i, slice):
            self.slices += 1  # read whole, as a naive sequence would
            return [self[j] for j in range(*i.indices(len(self)))]
        self.lookups += 1
        return self._parse(i)

    def __iter__(self) -> Iterator[SubmissionResult]:
        self.iterations += 1
        for i in range(len(self._rows)):
            yield self._parse(i)

    def _parse(self, i: int) -> SubmissionResult:
        result = _submission_from_dict(json.loads(self._rows[i]), f"submissions[{i}]")
        self.alive += 1
        self.most_alive = max(self.most_alive, self.alive)
        weakref.finalize(result, self._freed)
        return result

    def _freed(self) -> None:
        self.alive -= 1


def varied_class(size: int) -> list[str]:
    """results.json rows of a class with passes, failures with pitfalls, problems of every kind,
    submissions that could not be graded, curves, compared values, advisories and durations."""
    rng = random.Random(17)
    xs = tuple(i / 4 for i in range(-8, 9))
    rows: list[str] = []
    memo: dict[tuple[object, ...], str] = {}
    for n, s in enumerate(make_class(small_template(), size, seed=3).run.submissions):
        tests = tuple(replace(t, duration=rng.random() / 9,
                              advisories=("loop",) if n % 11 == 0 and t.outcome == "passed" else (),
                              comparison=(Entry("0", "1", "2", True),)
                              if t.outcome == "failed" and t.visibility == "visible" else ())
                      for t in s.tests)
        curves = () if s.status == "error" else (Curve(
            "activations", "relu", "line", xs, tuple(max(0.0, x) for x in xs),
            None if n % 5 == 0 else tuple(max(0.0, x) + rng.choice((0.0, 0.2)) for x in xs),
            note="relu() raised" if n % 5 == 0 else ""),)
        rows.append(submission_json(replace(s, tests=tests, curves=curves), True, memo))
    return rows


@pytest.fixture(scope="module")
def rows() -> list[str]:
    return varied_class(300)


def make_run(submissions: Sequence[SubmissionResult]) -> GradeRun:
    return GradeRun("0.1.0", 3, "rlimits", submissions, warnings=("weaker isolation",))


def options(folder: Path, layout: str, roster: Path, jobs: int = 1) -> OutputOptions:
    return OutputOptions(roster=roster, layout=layout, junit=folder / "ci" / "junit.xml",
                         step_summary=folder / "ci" / "summary.md", jobs=jobs, reveal="names")


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def a_roster(tmp_path: Path, rows: Sequence[str]) -> Path:
    ids = [json.loads(r)["id"] for r in rows]
    lines = [f"{sid},Student {i},{'' if i % 4 == 0 else f's{i}@example.org'},"
             for i, sid in enumerate(ids) if i % 9]
    path = tmp_path / "roster.csv"
    path.write_text("id,name,email,sis_id\n" + "\n".join(lines) + "\nghost,G,,\n", "utf-8")
    return path


@pytest.mark.parametrize("layout", ["canvas", "moodle"])
def test_one_pass_holds_one_result_and_writes_the_same_files(
        tmp_path: Path, rows: list[str], layout: str) -> None:
    roster = a_roster(tmp_path, rows)
    plain = tuple(_submission_from_dict(json.loads(r), "row") for r in rows)
    write_all(make_run(plain), tmp_path / "plain" / "out", options(tmp_path / "plain", layout,
                                                                   roster))
    lazy = LazyResults(rows)
    gc.disable()  # a result kept alive by a cycle must count, whenever the collector would run
    try:
        write_all(make_run(lazy), tmp_path / "lazy" / "out", options(tmp_path / "lazy", layout,
                                                                     roster))
        assert lazy.alive == 0  # nothing kept once written
    finally:
        gc.enable()
    # The loop's result and the next one being read: never the class.
    assert lazy.most_alive <= 3
    assert (lazy.iterations, lazy.lookups, lazy.slices) == (1, 0, 0)
    expected = files(tmp_path / "plain")
    assert len(expected) == len(rows) + 6  # pages, index, results, 2 gradebooks, junit, summary
    assert files(tmp_path / "lazy") == expected
    out = tmp_path / "lazy" / "out"
    assert (out / "results.json").read_text("utf-8") == dumps_results(make_run(plain))
    assert (tmp_path / "lazy" / "ci" / "junit.xml").read_bytes() == \
        junit.junit_bytes(make_run(plain), reveal="names")


def test_forked_pages_and_one_pass_for_the_rest(tmp_path: Path, rows: list[str]) -> None:
    roster = a_roster(tmp_path, rows)
    plain = tuple(_submission_from_dict(json.loads(r), "row") for r in rows)
    write_all(make_run(plain), tmp_path / "plain" / "out",
              options(tmp_path / "plain", "canvas", roster))
    lazy = LazyResults(rows)
    write_all(make_run(lazy), tmp_path / "lazy" / "out",
              options(tmp_path / "lazy", "canvas", roster, jobs=2))
    # This process renders the first pages by index, the workers the rest (in their own copies).
    assert (lazy.iterations, lazy.slices) == (1, 0) and lazy.lookups <= 2
    assert lazy.most_alive <= 3 and lazy.alive == 0
    assert files(tmp_path / "lazy") == files(tmp_path / "plain")


def test_what_a_run_prints_comes_from_the_pass(tmp_path: Path, rows: list[str]) -> None:
    roster = a_roster(tmp_path, rows)
    lazy = LazyResults(rows)
    run = make_run(lazy)
    chosen = replace(options(tmp_path, "moodle", roster), junit=None, step_summary=None)
    written = write_outputs(run, tmp_path / "out", chosen)
    assert lazy.iterations == 1
    reused = {json.loads(r)["id"] for r in rows[::3]}
    lines = summary_lines(run, tmp_path / "out", 1.0, reused, written.book)
    warnings = gradebook_warnings(run, chosen, written.book)
    assert lazy.iterations == 1  # nothing read again
    assert "leaves out" in warnings[0]
    assert lines == summary_lines(run, tmp_path / "out", 1.0, reused)
    assert warnings == gradebook_warnings(run, chosen)
    assert lazy.iterations == 3  # each made its own pass, one result at a time
    assert lazy.most_alive <= 3


def test_the_class_summary_does_not_depend_on_the_order_results_come_in(rows: list[str]) -> None:
    results = [_submission_from_dict(json.loads(r), "row") for r in rows]
    # A repeated id too: its entries keep the order they came in, as a stable sort keeps them.
    results.insert(40, replace(results[7], status="error", tests=(), error="bad zip"))
    shuffled = results[:]
    random.Random(5).shuffle(shuffled)
    expected = index_page(make_run(tuple(sorted(shuffled, key=lambda s: s.id))))
    builder = IndexBuilder()
    for result in shuffled:
        builder.add(result)
    assert builder.page(run_footer(make_run(()))) == expected
    assert expected.problems and expected.misconceptions and expected.tests


def test_entry_points_still_take_a_run(tmp_path: Path, rows: list[str]) -> None:
    run = make_run(LazyResults(rows[:60]))
    book = gradebook.Gradebook.of(run)
    by_run = gradebook.write_grades_csv(run, tmp_path / "a", exercises=course.exercises())
    by_book = gradebook.write_grades_csv(book, tmp_path / "b", exercises=course.exercises())
    assert by_run.read_bytes() == by_book.read_bytes()
    builder = step_summary.SummaryBuilder(reveal="all", max_sections=5, warnings=run.warnings)
    for result in run.submissions:
        builder.add(result)
    markdown = step_summary.github_summary_markdown(run, reveal="all", max_sections=5)
    assert markdown == "\n".join(builder.lines()) + "\n"
    assert "…and 55 more submissions" in markdown
    assert junit.junit_bytes(make_run(())).endswith(b' time="0.000" />\n')
