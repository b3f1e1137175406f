"""The roster: the class list a gradebook is written against, read from a CSV file with an 'id'
column and any of name, email, sis_id, lms_id and section (see grader.reports.gradebook)."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError

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
