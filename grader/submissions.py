"""Find the submissions in a folder and read their exercise modules, trusting none of their bytes.

Archives are read in memory with byte caps, so discovery never writes a file: nothing a student
sends can land outside the run's work folder, whatever its member names say.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from grader.errors import UsageError
from grader.listing import (
    NOT_FOLLOWED,
    File,
    Listing,
    Unreadable,
    hidden,
    list_zip,
    read_capped,
    read_path,
    source_text,
    walk,
)
from grader import pruning
from grader.notebooks import (
    MAX_NOTEBOOK_BYTES,
    NotebookError,
    exercise_functions,
    notebook_modules,
    spans,
    summary,
)
from grader import course
from grader.records import Submission
from grader.sandbox.standins import DISPLAY_ONLY, FALLBACK, fallback_tag

MAX_ID_LENGTH = 64  # longest id before the disambiguating hash suffix

Kind = Literal["folder", "zip", "ipynb"]
_KIND_ORDER: dict[Kind, int] = {"folder": 0, "zip": 1, "ipynb": 2}
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")
# Names Windows refuses as folder names, whatever the extension.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{dev}{n}" for dev in ("com", "lpt") for n in range(10)}
)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One submission found in the submissions folder, before it is read."""

    kind: Kind
    where: str
    """Its path, as text: a class of thousands is listed before it is read, and a Path object
    costs several times the string."""
    origin: str
    base: str

    @property
    def path(self) -> Path:
        """Its path."""
        return Path(self.where)


def safe_id(name: str) -> str:
    """Map any name to a folder name of [A-Za-z0-9._ -], adding a hash when it had to change."""
    cleaned = _UNSAFE_CHARS.sub("_", name).lstrip(" .-")[:MAX_ID_LENGTH].rstrip(" .")
    reserved = cleaned.split(".")[0].lower() in _RESERVED
    if cleaned == name and cleaned and not reserved:
        return cleaned
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned or 'submission'}-{digest}"


@dataclass(frozen=True, slots=True)
class Pending:
    """A submission found in the submissions folder and given its id, not read yet: a class
    of thousands is listed in a moment and read one submission at a time (see `load`)."""

    id: str
    """The submission id it will have."""
    entry: _Entry
    """Where it is and what kind of entry it is."""
    notes: tuple[str, ...]
    """Notes that came with its id (another entry with the same name)."""
    expected: tuple[str, ...]
    """The exercise modules it may hold."""


def find(path: Path, *, expected: Sequence[str] | None = None) -> list[Pending]:
    """Every submission under path (or path itself as one submission), sorted by id, unread."""
    modules = tuple(expected if expected is not None else course.exercises())
    found = [Pending(sub_id, entry, notes, modules)
             for entry, sub_id, notes in _assign_ids(_entries(path, modules))]
    return sorted(found, key=lambda p: (p.id.casefold(), p.id))


def load(pending: Pending) -> Submission:
    """Read one found submission; every failure becomes a note or its error, never an exception."""
    return _load(pending.entry, pending.id, pending.notes, pending.expected)


def discover(path: Path, workdir: Path, *,
             expected: Sequence[str] | None = None) -> list[Submission]:
    """Find and read every submission under path (or path itself as one submission), sorted by id.

    workdir is the run's scratch folder; discovery reads archives in memory and writes nothing.
    expected: the exercise modules a submission may hold (the course's, by default).
    """
    return [load(p) for p in find(path, expected=expected)]


def rough_count(path: Path, expected: Sequence[str] | None = None) -> int:
    """About how many submissions discover() will find at path, at the cost of one listing
    (never raises): for work sized before the submissions are read."""
    try:
        with os.scandir(path) as scan:
            children = list(scan)
    except OSError:  # a file (one submission), or an error discover() will report
        return 1
    single = _is_single(children, expected if expected is not None else course.exercises())
    return 1 if single else max(1, len(children))


def _entries(path: Path, expected: Sequence[str]) -> list[_Entry]:
    """The submissions at path; UsageError when there are none to grade."""
    if not path.exists():
        raise UsageError(f"submissions path {path} does not exist")
    resolved = path.resolve()
    single = _entry_for(resolved, resolved.name) if resolved.is_file() else None
    if single is None and not resolved.is_dir():
        raise UsageError(f"{path} is not a folder, a .zip file or a .ipynb notebook")
    if single is not None:
        return [single]
    try:
        with os.scandir(resolved) as scan:
            children = sorted(scan, key=lambda e: e.name)
        if _is_single(children, expected):
            return [_Entry("folder", str(resolved), resolved.name, resolved.name)]
        entries = [_entry_for(Path(c.path), c.name) for c in children]
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    found = [e for e in entries if e is not None]
    if not found:
        raise UsageError(f"no submissions found in {path}: expected folders, .zip or .ipynb files")
    return found


def _is_single(children: list[os.DirEntry[str]], expected: Sequence[str]) -> bool:
    """Whether a folder is one student's work: it holds an exercise module or notebook itself.

    A notebook counts only when named after an exercise, so that a class folder of alice.ipynb,
    bob.ipynb is not mistaken for a single student's folder.
    """
    names = {f"{n}.py" for n in expected} | {f"{n}.ipynb" for n in expected}
    return any(c.name in names and c.is_file(follow_symlinks=False) for c in children)


def _entry_for(path: Path, name: str) -> _Entry | None:
    """Classify one entry of the submissions folder; None for anything that is not a submission."""
    if hidden(name):
        return None
    lowered = name.lower()
    if lowered.endswith(".zip"):
        return _Entry("zip", str(path), name, name[: -len(".zip")])
    if lowered.endswith(".ipynb"):
        return _Entry("ipynb", str(path), name, name[: -len(".ipynb")])
    if path.is_symlink():
        # A link that looks like a student's folder is reported (by _load) rather than dropped.
        return _Entry("folder", str(path), name, name) if "." not in name else None
    return _Entry("folder", str(path), name, name) if path.is_dir() else None


def _assign_ids(entries: list[_Entry]) -> list[tuple[_Entry, str, tuple[str, ...]]]:
    """Give every entry a distinct safe id; entries sharing a student name get a note each."""
    groups: dict[str, list[_Entry]] = {}
    for entry in sorted(entries, key=lambda e: (_KIND_ORDER[e.kind], e.origin)):
        groups.setdefault(safe_id(entry.base).casefold(), []).append(entry)
    used: set[str] = set()
    assigned: list[tuple[_Entry, str, tuple[str, ...]]] = []
    for group in groups.values():
        ids = [_unique_id(e, used, plain=i == 0) for i, e in enumerate(group)]
        notes: tuple[str, ...] = ()
        if len(group) > 1:
            origins = " and ".join(e.origin for e in group)
            notes = (
                f"there were {len(group)} entries for {group[0].base} ({origins}); "
                f"each was graded on its own, as {' and '.join(ids)}",
            )
        assigned.extend((e, i, notes) for e, i in zip(group, ids))
    return assigned


def _unique_id(entry: _Entry, used: set[str], *, plain: bool) -> str:
    """The entry's safe id, with its kind and then a counter appended until it is unused."""
    tails = itertools.chain([""] if plain else [], [f"-{entry.kind}"])
    tails = itertools.chain(tails, (f"-{entry.kind}-{n}" for n in itertools.count(2)))
    # Compared without case: the output folders may live on a case-insensitive file system.
    chosen = next(c for c in (safe_id(entry.base + t) for t in tails) if c.casefold() not in used)
    used.add(chosen.casefold())
    return chosen


def _load(
    entry: _Entry, sub_id: str, notes: tuple[str, ...], expected: Sequence[str]
) -> Submission:
    """Read one submission; every failure becomes a note or its error, never an exception."""
    listing = Listing(entry.origin, list(notes))
    path = entry.path
    try:
        if path.is_symlink():
            raise Unreadable(f"{entry.origin} is a symbolic link; {NOT_FOLLOWED}")
        if entry.kind == "folder":
            walk(path, (), listing)
        elif entry.kind == "zip":
            list_zip(path, listing)
        else:
            size = path.stat().st_size
            listing.add(File((entry.origin,), size, partial(read_path, path)))
        sources, error = _collect(listing, expected)
    except Unreadable as exc:
        sources, error = {}, str(exc)
    except Exception as exc:  # noqa: BLE001 - one hostile submission must not stop the class
        sources, error = {}, f"{entry.origin} could not be processed ({type(exc).__name__})"
    return Submission(sub_id, sources, tuple(listing.notes), entry.origin, error)


def _collect(listing: Listing, expected: Sequence[str]) -> tuple[dict[str, str], str | None]:
    """Pick and read exercise modules, notebook modules and helpers; return sources and error."""
    sources: dict[str, str] = {}
    folders: set[tuple[str, ...]] = set()
    python = sorted((f for f in listing.files if f.parts[-1].endswith(".py")), key=_depth_order)
    local = {*expected, *(f.parts[-1][: -len(".py")] for f in python)}

    def available(top: str) -> bool:
        """Whether the sandbox can import a top-level module: the submission's own, a
        display-only library (stood in for when absent) or an installed one."""
        return top in local or top in DISPLAY_ONLY or pruning.installed(top)

    for name in expected:
        chosen = _pick(name, python, listing.notes)
        text = source_text(chosen, listing) if chosen else None
        if chosen and text is not None:
            sources[name] = text
            folders.add(chosen.parts[:-1])
            _add_fallback(name, chosen.shown, sources, listing.notes, available)
    missing = [n for n in expected if n not in sources and n in exercise_functions()]
    notebook_error = (
        _from_notebooks(listing, missing, sources, folders, available) if missing else None
    )
    for file in python:
        stem = file.parts[-1][: -len(".py")]
        if file.parts[:-1] in folders and stem not in sources and _is_helper(stem, expected):
            text = source_text(file, listing)
            if text is not None:
                sources[stem] = text
    if any(n in sources for n in expected):
        return sources, None
    if notebook_error:
        listing.notes.remove(notebook_error)  # shown once, as the error
        return sources, notebook_error
    wanted = ", ".join(f"{n}.py" for n in expected)
    return sources, f"no exercise files found in {listing.origin}: expected {wanted} or a notebook"


def _depth_order(file: File) -> tuple[int, tuple[str, ...]]:
    """Shallowest first, then path order."""
    return len(file.parts), file.parts


def _pick(name: str, python: list[File], notes: list[str]) -> File | None:
    """The shallowest <name>.py, noting ties and near misses in letter case."""
    matches = [f for f in python if f.parts[-1] == f"{name}.py"]
    near = [f.shown for f in python if f.parts[-1].lower() == f"{name}.py"]
    if not matches:
        if near:
            wanted = f"the grader looks for {name}.py (names are case-sensitive)"
            notes.append(f"found {near[0]}, but {wanted}")
        return None
    first = matches[0]
    if len(matches) > 1 and len(matches[1].parts) == len(first.parts):
        notes.append(
            f"found more than one {name}.py at the same depth ({first.shown} and "
            f"{matches[1].shown}); graded {first.shown}"
        )
    return first


def _is_helper(stem: str, expected: Sequence[str]) -> bool:
    """Whether a .py file beside the exercise modules is a module the student's code may import.

    Test files and conftest.py come with the handout and are never the student's code.
    """
    if stem in expected or not stem.isidentifier():
        return False
    return not (stem.startswith("test_") or stem.endswith("_test") or stem == "conftest")


def _add_fallback(
    name: str, shown: str, sources: dict[str, str], notes: list[str],
    available: Callable[[str], bool],
) -> None:
    """Give a module whose top level runs code (plots, prints, input(), experiments) a fallback:
    its graded functions with only what they need, which the sandbox runs if the module as sent
    fails to import. A module that imports fine is graded exactly as sent.

    The note is written only when the failure is certain (an import of a module the grader does
    not have): whether other top-level code fails is known only once it has run.
    """
    graded = exercise_functions().get(name, ())
    text = sources[name]
    if not graded or not pruning.runs_code(text, available):
        return
    pruned = pruning.prune(text, graded, available, lambda line: f"{shown} line {line}")
    if pruned is None or not pruned.changed:
        return
    sources[name + FALLBACK] = f"{pruned.source}\n{fallback_tag(text)}"
    if pruned.absent:
        left = [s for s in pruned.left_out if s.active]
        lines = spans([n for s in left for n in range(s.first, s.last + 1)])
        what = f" (lines {lines}: {summary(left)})" if left else ""
        absent = " and ".join(pruned.absent)
        note = (f"{shown} imports {absent}, which the grader does not have, so it cannot run as "
                f"it is: its functions were graded without the top-level code they do not "
                f"need{what}.")
        if pruned.missing:
            note += f" A function that uses {' or '.join(pruned.missing)} fails."
        notes.append(note)


def _from_notebooks(
    listing: Listing, missing: list[str], sources: dict[str, str], folders: set[tuple[str, ...]],
    available: Callable[[str], bool],
) -> str | None:
    """Fill missing modules from the submission's notebooks; return the first notebook's error."""
    first_error: str | None = None
    notebooks = (f for f in listing.files if f.parts[-1].endswith(".ipynb"))
    for file in sorted(notebooks, key=_depth_order):
        data = read_capped(file, MAX_NOTEBOOK_BYTES, listing)
        if data is None:
            continue
        try:
            modules, notes = notebook_modules(file.shown, data, available=available)
        except NotebookError as exc:
            message = f"{file.shown} is not a valid notebook: {exc}"
            listing.notes.append(message)
            first_error = first_error or message
            continue
        if not modules:
            listing.notes.append(f"{file.shown} defines none of the exercise functions")
        taken = [m for m in missing if m in modules and m not in sources]
        if taken:
            sources.update((m, modules[m]) for m in taken)
            folders.add(file.parts[:-1])
            verb = "was" if len(taken) == 1 else "were"
            taken_note = f"{', '.join(taken)} {verb} taken from the notebook {file.shown}"
            listing.notes += [*notes, taken_note]
    return first_error


