"""What the class-wide outputs keep per student while a class goes by, and how the class summary
is written: a few bytes per student, rows made while the page is written, the page never held
whole; and what is kept reads exactly as before.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.reports import html, index_context
from grader.reports.context import run_footer
from grader.reports.gradebook import Gradebook
from grader.reports.index_context import IndexBuilder, index_page
from grader.reports.tally import tally
from tests.test_index_page import failed, make_class, small_template, stopped


def graded(sid: str, tests: Sequence[TestOutcome] = ()) -> SubmissionResult:
    chosen = tuple(tests or small_template())
    return SubmissionResult(sid, "graded", sum(t.score for t in chosen),
                            sum(t.max_score for t in chosen), chosen)


def test_equal_totals_share_their_objects_and_read_as_their_own() -> None:
    first, second = tally(graded("a")), tally(graded("b"))
    assert (first.id, second.id) == ("a", "b")
    assert first.exercises is second.exercises and first.score is second.score
    assert first == replace(second, id="a")
    # 0.0 and -0.0 are equal, but a page writes them differently: never shared.
    zero = tally(replace(graded("z"), score=0.0))
    minus = tally(replace(graded("m"), score=-0.0))
    assert str(zero.score) == "0.0" and str(minus.score) == "-0.0"
    # An int reads like a float but is not one: kept as it came.
    whole = tally(replace(graded("w"), score=18, max_score=18))
    assert type(whole.score) is int and type(whole.max_score) is int


def test_a_repeated_id_adds_to_one_entry_of_its_group_and_its_misconception() -> None:
    tests = small_template()
    relu, softmax, pitfall = tests[0], tests[3], tests[1]
    once = graded("s1", (stopped(relu, "exception"), failed(pitfall, "entropy_sign")))
    again = graded("s1", (stopped(softmax, "exception"), failed(pitfall, "entropy_sign")))
    builder = IndexBuilder()
    for result in (once, again, graded("s0")):
        builder.add(result)
    page = builder.page(run_footer(GradeRun("0", 1, "rlimits", ())))
    (group,) = page.problems
    (affected,) = group.students
    assert affected.student.student_id == "s1" and affected.where == "relu(), softmax()"
    assert affected.tests == 2 == group.tests
    assert affected.detail == stopped(relu, "exception").message  # the first one met
    (misconception,) = page.misconceptions
    assert misconception.students == 1 and [s.student_id for s in misconception.who] == ["s1"]
    assert page.troubled == 1


def test_rows_are_made_while_the_page_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = index_context.student_row

    def counted(student: index_context.Tally, exercises: tuple[str, ...]) -> object:
        made.append(student.id)
        return real(student, exercises)

    monkeypatch.setattr(index_context, "student_row", counted)
    run = make_class(small_template(), 40).run
    page = index_page(run)
    assert not made and len(page.students) == 40
    assert [row.student_id for row in page.students] == [s.id for s in run.submissions]
    assert len(made) == 40


def test_the_page_written_piece_by_piece_is_the_rendered_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_class(small_template(), 120).run
    env = html.make_environment()
    expected = html.render_index(env, run).encode("utf-8")
    monkeypatch.setattr(html, "WRITE_CHARS", 500)  # many writes
    path = tmp_path / "index.html"
    path.write_text("the previous page", "utf-8")
    assert html.write_index_page(env, index_page(run), path) == path
    assert path.read_bytes() == expected
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]  # no temporary left


def test_a_class_costs_a_few_bytes_per_student_and_the_page_is_never_held(
        tmp_path: Path) -> None:
    size = 3000
    run = make_class(small_template(), size, seed=11).run
    env = html.make_environment()
    html.render_index(env, make_class(small_template(), 30).run)  # templates compiled
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        book, builder = Gradebook(), IndexBuilder()
        for result in run.submissions:  # the results are held by the test, not by the tallies
            totals = tally(result)
            book.add(totals)
            builder.add(result, totals)
        kept = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.reset_peak()
        page = builder.page(run_footer(run))
        made, making = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        path = html.write_index_page(env, page, tmp_path / "index.html")
        writing = tracemalloc.get_traced_memory()[1] - made
    finally:
        tracemalloc.stop()
    # Per student a Tally, a place in a few lists and dicts: its figures are shared with equal
    # ones (the totals kept for that are a bounded part of this).
    assert kept < size * 300
    assert making - before - kept < size * 400  # lists of numbers for the means and medians
    # Rendered whole, the page would be held at least twice (its pieces, then the string).
    assert writing < path.stat().st_size / 8
