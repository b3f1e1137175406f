"""grades.csv: one row per student, for a spreadsheet or a learning platform's gradebook import.

Three layouts:

* ``plain``: id, [roster columns, status,] score, max_score, percent, then one column per
  exercise holding the points earned in it.
* ``canvas``: a Canvas gradebook import file (see write_grades_csv).
* ``moodle``: a Moodle "Import grades from CSV file" file (see write_grades_csv).

Every cell that comes from student data (submission ids, roster fields) is neutralised against
spreadsheet formula injection: a leading = + - @ tab or carriage return gets an apostrophe.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import course
from grader.atomic import AtomicFile, safe_child
from grader.errors import UsageError
from grader.records import GradeRun
from grader.reports.roster import ROSTER_FIELDS as ROSTER_FIELDS, Roster as Roster
from grader.reports.roster import RosterEntry, load_roster as load_roster
from grader.reports.tally import Tally, tally

LAYOUTS = ("plain", "canvas", "moodle")
DEFAULT_ASSIGNMENT = "Exercises"
#: A header that already names a Canvas assignment id: "Name (1234)".
_WITH_ID = re.compile(r"(.*\S)\s*\((\d+)\)")
#: Students a warning names before it says how many more there are.
_NAMED = 10

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Prefix an apostrophe so spreadsheets show the text instead of evaluating it as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_PREFIXES) else cell


def round_percent(value: float) -> float:
    """A percent rounded half up to one decimal: 3.57 -> 3.6, 16.666 -> 16.7 (never truncated)."""
    # Rounded to 6 places first: float sums such as 59.99999999999999 are 60.
    return math.floor(round(value, 6) * 10 + 0.5) / 10


def percent(score: float, max_score: float) -> float:
    """score as a percent of max_score by round_percent's rule, except that it reads 100 only
    when every point was earned and 0 only when none was."""
    if max_score <= 0:
        return 0.0
    shown = round_percent(100.0 * score / max_score)
    if round(score, 6) < round(max_score, 6):
        shown = min(shown, 99.9)
    if round(score, 6) > 0:
        shown = max(shown, 0.1)
    return shown


def _fmt(value: float) -> str:
    """A score as a short decimal: no exponent, no trailing zeros, at most 4 places."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# -- rows ---------------------------------------------------------------------------------------


class Gradebook:
    """Every submission's totals, gathered one at a time: all that the gradebook files are made
    of, so that writing them holds no result."""

    def __init__(self) -> None:
        self.tallies: list[Tally] = []
        """One per submission, in the order added."""
        self._exercises: set[str] = set()
        self._run_max: float | None = None

    @classmethod
    def of(cls, run: GradeRun) -> Gradebook:
        """The gradebook of run, from one pass over its submissions."""
        book = cls()
        for result in run.submissions:
            book.add(tally(result))
        return book

    def add(self, totals: Tally) -> None:
        """Count one more submission."""
        self.tallies.append(totals)
        self._exercises.update(name for name, _, _ in totals.exercises)
        # As max() picks among equals (0.0 and -0.0): the first one stays.
        if self._run_max is None or totals.max_score > self._run_max:
            self._run_max = totals.max_score

    def exercise_columns(self, exercises: Sequence[str]) -> list[str]:
        """The exercises, in the given order, that have at least one test in the run."""
        return [e for e in exercises if e in self._exercises]

    @property
    def run_max(self) -> float:
        """Points available in the run, used for students who submitted nothing."""
        return 0.0 if self._run_max is None else self._run_max


def _book(run: GradeRun | Gradebook) -> Gradebook:
    return run if isinstance(run, Gradebook) else Gradebook.of(run)


@dataclass(frozen=True)
class _Row:
    """One line of the gradebook: a roster student, a submission, or both."""

    entry: RosterEntry | None
    """The roster's line, if the student is on the roster."""
    result: Tally | None
    """The submission's totals, if there is a submission."""
    status: str
    """graded, error, missing (on the roster, nothing submitted) or not_in_roster."""

    @property
    def id(self) -> str:
        """The id this row is filed under."""
        if self.entry is not None:
            return self.entry.id
        assert self.result is not None  # every row has an entry, a result, or both
        return self.result.id

    @property
    def score(self) -> float:
        """Points earned; 0 for a student with no submission."""
        return self.result.score if self.result is not None else 0.0


def _rows(book: Gradebook, roster: Roster | None) -> Iterator[_Row]:
    """Roster students in roster order, then submissions the roster does not list."""
    if roster is None:
        yield from (_Row(None, s, s.status) for s in book.tallies)
        return
    by_id = {s.id: s for s in book.tallies}
    for entry in roster.entries:
        result = by_id.pop(entry.id, None)
        yield _Row(entry, result, result.status if result else "missing")
    # Keep unlisted submissions rather than drop them: a typo in the roster must stay visible.
    yield from (_Row(None, s, "not_in_roster") for s in book.tallies if s.id in by_id)


def _exercise_points(result: Tally | None, exercise: str) -> float:
    """Points a submission earned in one exercise."""
    found = result.points(exercise) if result is not None else None
    return found[0] if found is not None else 0.0


def _plain_table(
    book: Gradebook, exercises: Sequence[str], roster: Roster | None
) -> Iterator[list[str]]:
    """Header and rows of the plain layout."""
    columns = book.exercise_columns(exercises)
    extra = list(roster.columns) + ["status"] if roster is not None else []
    yield ["id", *extra, "score", "max_score", "percent", *columns]
    for row in _rows(book, roster):
        maximum = row.result.max_score if row.result is not None else book.run_max
        cells = [neutralise(row.id)]
        if roster is not None:
            entry = row.entry or RosterEntry(id=row.id)
            cells += [neutralise(getattr(entry, f)) for f in roster.columns] + [row.status]
        cells += [_fmt(row.score), _fmt(maximum), _fmt(percent(row.score, maximum))]
        cells += [_fmt(_exercise_points(row.result, e)) for e in columns]
        yield cells


def _canvas_table(book: Gradebook, roster: Roster | None, assignment: str) -> Iterator[list[str]]:
    """Header and rows of the Canvas gradebook import layout."""
    yield ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]
    for row in _rows(book, roster):
        entry = row.entry
        if entry is None:
            # No roster line: the submission id is the only identity we have; Canvas's import
            # preview lists it as unmatched unless submissions are named by SIS User ID.
            entry = RosterEntry(id=row.id, name=row.id, sis_id=row.id)
        cells = [entry.name or entry.id, entry.lms_id, entry.sis_id, "", entry.section]
        yield [neutralise(c) for c in cells] + [_fmt(row.score)]


def _moodle_table(book: Gradebook, roster: Roster | None, assignment: str) -> Iterator[list[str]]:
    """Header and rows of the Moodle CSV grade import layout (rows Moodle cannot match left out:
    see moodle_left_out)."""
    yield ["Email address", "ID number", assignment]
    for row in _rows(book, roster):
        if roster is not None and _moodle_blank(row):
            continue
        entry = row.entry if row.entry is not None else RosterEntry(id=row.id, sis_id=row.id)
        yield [neutralise(entry.email), neutralise(entry.sis_id), _fmt(row.score)]


def _moodle_blank(row: _Row) -> bool:
    """Whether a row has neither an email nor an ID number from the roster to be matched by."""
    return row.entry is None or not (row.entry.email or row.entry.sis_id)


def moodle_left_out(run: GradeRun | Gradebook, roster: Roster | None) -> list[str]:
    """The students grades-moodle.csv leaves out, each with why: with a roster, a row is matched
    by the roster's email or sis_id, and one with neither would only be refused by Moodle's
    import (without a roster every row is kept, its ID number being the submission id)."""
    if roster is None:
        return []
    return [f"{row.id} (not on the roster)" if row.entry is None
            else f"{row.id} (no email or sis_id in the roster)"
            for row in _rows(_book(run), roster) if _moodle_blank(row)]


def _course_title() -> str:
    """The assignment's name when none is given: the course's title."""
    return course.current().title


def assignment_header(layout: str, name: str | None, assignment_id: int | None) -> str:
    """The header of the canvas or moodle assignment column; UsageError for options that would
    have no effect or that disagree.

    Canvas updates an existing assignment only when the header reads "Name (id)", the id being
    the number in the assignment's address; any other header is offered as a new assignment.
    """
    if layout == "plain" and (name is not None or assignment_id is not None):
        option = "--assignment" if name is not None else "--assignment-id"
        raise UsageError(f"{option} names the assignment column of --gradebook canvas or "
                         "moodle; grades.csv has one column per exercise")
    if assignment_id is not None and layout != "canvas":
        raise UsageError("--assignment-id is for --gradebook canvas; Moodle asks which grade "
                         "item the column goes to when you import it")
    title = _course_title() if name is None else name.strip()
    if not title:
        raise UsageError("--assignment: give the assignment's name as the gradebook shows it")
    named = _WITH_ID.fullmatch(title)
    if assignment_id is None:
        return title
    if named is not None:
        if int(named.group(2)) != assignment_id:
            raise UsageError(f"--assignment {title!r} names assignment id {named.group(2)}, "
                             f"--assignment-id says {assignment_id}; give one of them")
        return title
    return f"{title} ({assignment_id})"


def import_warnings(run: GradeRun | Gradebook, roster: Roster | None, layout: str,
                    assignment: str) -> list[str]:
    """What the instructor must know before importing the file the layout writes, one line each."""
    if layout == "canvas" and _WITH_ID.fullmatch(assignment) is None:
        return [f"grades-canvas.csv: the column {assignment!r} has no assignment id, so Canvas "
                "will offer to create a new assignment; to update an existing one pass "
                "--assignment-id N (N from the assignment's address, .../assignments/N)"]
    left_out = moodle_left_out(run, roster) if layout == "moodle" else []
    if not left_out:
        return []
    named = ", ".join(left_out[:_NAMED])
    more = f" and {len(left_out) - _NAMED} more" if len(left_out) > _NAMED else ""
    return [f"grades-moodle.csv leaves out {len(left_out)} student(s) Moodle could not match "
            f"(no email or ID number): {named}{more}; give each an email or sis_id in the "
            "roster to import them"]


def _write_csv(path: Path, table: Iterable[list[str]]) -> None:
    """Write RFC 4180 CSV (CRLF line ends, minimal quoting) atomically, a row at a time."""
    with AtomicFile(path) as out:
        csv.writer(out, lineterminator="\r\n").writerows(table)
        out.commit()


def write_grades_csv(
    run: GradeRun | Gradebook,
    out_dir: Path,
    *,
    exercises: Sequence[str],
    roster: Roster | None = None,
    layout: str = "plain",
    assignment: str = DEFAULT_ASSIGNMENT,
) -> Path:
    """Write the gradebook CSV for run and return its path.

    ``plain`` writes out_dir/grades.csv (see the module docstring). With a roster, every roster
    student gets a row (a ``status`` of ``missing`` and score 0 when nothing was submitted) and
    submissions the roster does not list follow with status ``not_in_roster``.

    ``canvas`` writes out_dir/grades-canvas.csv with the columns Student, ID, SIS User ID,
    SIS Login ID, Section and one assignment column holding the points earned. Canvas matches
    rows to students by ID (its own user id, roster column lms_id) or SIS User ID (roster
    column sis_id); Student and Section are for people reading the file. The assignment column
    header must match an existing assignment exactly as a Canvas gradebook export spells it,
    "Name (assignment id)", e.g. "Week 3 exercises (1234)"; pass it as ``assignment``.
    A header Canvas does not recognise is offered as a new assignment on import. Without a
    roster, SIS User ID holds the submission id.

    ``moodle`` writes out_dir/grades-moodle.csv with the columns "Email address", "ID number"
    and one grade column named ``assignment``. In Moodle's Grades > Import > CSV file, set
    "Identify user by" to map from "Email address" to Email address (or "ID number" to ID
    number), and map the grade column to the grade item; its maximum grade must be at least the
    run's max_score. Without a roster, "ID number" holds the submission id; with one, rows with
    neither an email nor a sis_id (submissions not on the roster among them) are left out, since
    Moodle could not match them (see moodle_left_out and import_warnings).

    In every layout students with no submission get 0. run may be a Gradebook gathered while
    the class went by, instead of the run.
    """
    if layout not in LAYOUTS:
        raise UsageError(f"unknown gradebook layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    book = _book(run)
    if layout == "plain":
        table, name = _plain_table(book, exercises, roster), "grades.csv"
    elif layout == "canvas":
        table, name = _canvas_table(book, roster, assignment), "grades-canvas.csv"
    else:
        table, name = _moodle_table(book, roster, assignment), "grades-moodle.csv"
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = safe_child(out_dir, name)
    _write_csv(path, table)
    return path
