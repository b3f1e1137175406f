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
import io
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import course
from grader.atomic import safe_child, write_text_atomic
from grader.errors import UsageError
from grader.records import GradeRun, SubmissionResult

LAYOUTS = ("plain", "canvas", "moodle")
DEFAULT_ASSIGNMENT = "Exercises"
#: A header that already names a Canvas assignment id: "Name (1234)".
_WITH_ID = re.compile(r"(.*\S)\s*\((\d+)\)")
#: Students a warning names before it says how many more there are.
_NAMED = 10

#: Optional roster columns, in the order they appear in the plain layout.
ROSTER_FIELDS = ("name", "email", "sis_id", "lms_id", "section")
#: Other spellings accepted in a roster header (lower-cased, spaces as underscores).
_ALIASES = {
    "student": "name",
    "full_name": "name",
    "email_address": "email",
    "sis_user_id": "sis_id",
    "id_number": "sis_id",
    "canvas_id": "lms_id",
    "moodle_id": "lms_id",
}
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RosterEntry:
    """One enrolled student as listed in the roster file."""

    id: str
    """Submission id this student's work is filed under."""
    name: str = ""
    email: str = ""
    sis_id: str = ""
    """Institution (SIS) id; Canvas 'SIS User ID', Moodle 'ID number'."""
    lms_id: str = ""
    """The learning platform's own user id; Canvas 'ID'."""
    section: str = ""


@dataclass(frozen=True)
class Roster:
    """The class list the gradebook is written against."""

    entries: tuple[RosterEntry, ...]
    """Students in file order."""
    columns: tuple[str, ...]
    """Which of ROSTER_FIELDS the file had, in ROSTER_FIELDS order."""


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


# -- roster -------------------------------------------------------------------------------------


def _roster_header(raw: Sequence[str] | None, path: Path) -> dict[str, str]:
    """Map the file's header cells to roster field names; UsageError without an id column."""
    if not raw:
        raise UsageError(f"roster {path} is empty; it needs a header row with an 'id' column")
    mapping: dict[str, str] = {}
    for cell in raw:
        key = cell.strip().lower().replace(" ", "_")
        key = _ALIASES.get(key, key)
        if key in ("id", *ROSTER_FIELDS) and key not in mapping.values():
            mapping[cell] = key
    if "id" not in mapping.values():
        found = ", ".join(repr(c) for c in raw)
        raise UsageError(f"roster {path} has no 'id' column (header has {found})")
    return mapping


def _roster_rows(path: Path) -> Iterator[tuple[int, dict[str, str], dict[str | None, object]]]:
    """(line number, header mapping, raw row) for each data row of the roster."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            mapping = _roster_header(reader.fieldnames, path)
            try:
                for row in reader:
                    yield reader.line_num, mapping, dict(row)
            except csv.Error as exc:
                raise UsageError(f"roster {path}, line {reader.line_num}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read roster {path}: {exc}") from None


def _roster_entry(
    line: int, mapping: dict[str, str], row: dict[str | None, object], path: Path
) -> RosterEntry:
    """Turn one raw row into a RosterEntry; UsageError with the line number when malformed."""
    if None in row:
        raise UsageError(f"roster {path}, line {line}: more cells than the header has columns")
    if any(value is None for value in row.values()):
        raise UsageError(f"roster {path}, line {line}: fewer cells than the header has columns")
    fields = {mapping[k]: str(v).strip() for k, v in row.items() if k in mapping}
    if not fields.get("id"):
        raise UsageError(f"roster {path}, line {line}: the id cell is empty")
    return RosterEntry(**fields)


def load_roster(path: Path) -> Roster:
    """Read a roster CSV: an 'id' column plus any of name, email, sis_id, lms_id, section."""
    path = Path(path)
    entries: list[RosterEntry] = []
    seen: dict[str, int] = {}
    mapping: dict[str, str] = {}
    for line, mapping, row in _roster_rows(path):
        entry = _roster_entry(line, mapping, row, path)
        if entry.id in seen:
            first = seen[entry.id]
            raise UsageError(f"roster {path}, line {line}: id {entry.id!r} already on line {first}")
        seen[entry.id] = line
        entries.append(entry)
    if not mapping:
        # A header-only file yields no rows; read the header again to still validate it.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            mapping = _roster_header(next(csv.reader(handle), None), path)
    present = set(mapping.values())
    return Roster(tuple(entries), tuple(f for f in ROSTER_FIELDS if f in present))


# -- rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """One line of the gradebook: a roster student, a submission, or both."""

    entry: RosterEntry | None
    result: SubmissionResult | None
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


def _rows(run: GradeRun, roster: Roster | None) -> list[_Row]:
    """Roster students in roster order, then submissions the roster does not list."""
    if roster is None:
        return [_Row(None, s, s.status) for s in run.submissions]
    by_id = {s.id: s for s in run.submissions}
    rows: list[_Row] = []
    for entry in roster.entries:
        result = by_id.pop(entry.id, None)
        rows.append(_Row(entry, result, result.status if result else "missing"))
    # Keep unlisted submissions rather than drop them: a typo in the roster must stay visible.
    rows.extend(_Row(None, s, "not_in_roster") for s in run.submissions if s.id in by_id)
    return rows


def _exercise_columns(run: GradeRun, exercises: Sequence[str]) -> list[str]:
    """The exercises, in the given order, that have at least one test in the run."""
    seen = {t.exercise for s in run.submissions for t in s.tests}
    return [e for e in exercises if e in seen]


def _exercise_points(result: SubmissionResult | None, exercise: str) -> float:
    """Points a submission earned in one exercise."""
    if result is None:
        return 0.0
    return sum(t.score for t in result.tests if t.exercise == exercise)


def _run_max(run: GradeRun) -> float:
    """Points available in the run, used for students who submitted nothing."""
    return max((s.max_score for s in run.submissions), default=0.0)


def _plain_table(
    run: GradeRun, exercises: Sequence[str], roster: Roster | None
) -> list[list[str]]:
    """Header and rows of the plain layout."""
    columns = _exercise_columns(run, exercises)
    extra = list(roster.columns) + ["status"] if roster is not None else []
    table = [["id", *extra, "score", "max_score", "percent", *columns]]
    run_max = _run_max(run)
    for row in _rows(run, roster):
        maximum = row.result.max_score if row.result is not None else run_max
        cells = [neutralise(row.id)]
        if roster is not None:
            entry = row.entry or RosterEntry(id=row.id)
            cells += [neutralise(getattr(entry, f)) for f in roster.columns] + [row.status]
        cells += [_fmt(row.score), _fmt(maximum), _fmt(percent(row.score, maximum))]
        cells += [_fmt(_exercise_points(row.result, e)) for e in columns]
        table.append(cells)
    return table


def _canvas_table(run: GradeRun, roster: Roster | None, assignment: str) -> list[list[str]]:
    """Header and rows of the Canvas gradebook import layout."""
    table = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]]
    for row in _rows(run, roster):
        entry = row.entry
        if entry is None:
            # No roster line: the submission id is the only identity we have; Canvas's import
            # preview lists it as unmatched unless submissions are named by SIS User ID.
            entry = RosterEntry(id=row.id, name=row.id, sis_id=row.id)
        cells = [entry.name or entry.id, entry.lms_id, entry.sis_id, "", entry.section]
        table.append([neutralise(c) for c in cells] + [_fmt(row.score)])
    return table


def _moodle_table(run: GradeRun, roster: Roster | None, assignment: str) -> list[list[str]]:
    """Header and rows of the Moodle CSV grade import layout (rows Moodle cannot match left out:
    see moodle_left_out)."""
    table = [["Email address", "ID number", assignment]]
    for row in _rows(run, roster):
        if roster is not None and _moodle_blank(row):
            continue
        entry = row.entry if row.entry is not None else RosterEntry(id=row.id, sis_id=row.id)
        table.append([neutralise(entry.email), neutralise(entry.sis_id), _fmt(row.score)])
    return table


def _moodle_blank(row: _Row) -> bool:
    """Whether a row has neither an email nor an ID number from the roster to be matched by."""
    return row.entry is None or not (row.entry.email or row.entry.sis_id)


def moodle_left_out(run: GradeRun, roster: Roster | None) -> list[str]:
    """The students grades-moodle.csv leaves out, each with why: with a roster, a row is matched
    by the roster's email or sis_id, and one with neither would only be refused by Moodle's
    import (without a roster every row is kept, its ID number being the submission id)."""
    if roster is None:
        return []
    return [f"{row.id} (not on the roster)" if row.entry is None
            else f"{row.id} (no email or sis_id in the roster)"
            for row in _rows(run, roster) if _moodle_blank(row)]


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


def import_warnings(run: GradeRun, roster: Roster | None, layout: str,
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


def _csv_text(table: list[list[str]]) -> str:
    """RFC 4180 CSV (CRLF line ends, minimal quoting) for a table of strings."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(table)
    return buffer.getvalue()


def write_grades_csv(
    run: GradeRun,
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

    In every layout students with no submission get 0.
    """
    if layout == "plain":
        table, name = _plain_table(run, exercises, roster), "grades.csv"
    elif layout == "canvas":
        table, name = _canvas_table(run, roster, assignment), "grades-canvas.csv"
    elif layout == "moodle":
        table, name = _moodle_table(run, roster, assignment), "grades-moodle.csv"
    else:
        raise UsageError(f"unknown gradebook layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = safe_child(out_dir, name)
    write_text_atomic(path, _csv_text(table))
    return path
