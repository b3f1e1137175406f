"""Find the submissions in a folder and read their exercise modules, trusting none of their bytes.

Archives are read in memory with byte caps, so discovery never writes a file: nothing a student
sends can land outside the run's work folder, whatever its member names say.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import re
import stat
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

from grader.errors import UsageError
from grader.notebooks import FUNCTIONS, MAX_NOTEBOOK_BYTES, NotebookError, notebook_modules
from grader.records import EXERCISES, Submission

MiB = 1024 * 1024
MAX_SOURCE_BYTES = 1 * MiB  # the lesson's solutions are a few KiB
MAX_ARCHIVE_BYTES = 20 * MiB  # largest .zip opened
MAX_TOTAL_BYTES = 20 * MiB  # most bytes read, decompressed, from one submission
MAX_FILES = 2000  # most files one submission may hold
MAX_DEPTH = 3  # how many folders deep an exercise module may sit
MAX_RATIO = 100  # largest compression ratio of a sizeable member (zip bomb guard)
MAX_ID_LENGTH = 64  # longest id before the disambiguating hash suffix

Kind = Literal["folder", "zip", "ipynb"]
_KIND_ORDER: dict[Kind, int] = {"folder": 0, "zip": 1, "ipynb": 2}
_JUNK = frozenset({"__MACOSX", "__pycache__", "node_modules", "site-packages", "venv"})
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")
_DRIVE = re.compile(r"^[A-Za-z]:")
# Names Windows refuses as folder names, whatever the extension.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{dev}{n}" for dev in ("com", "lpt") for n in range(10)}
)
_NOT_FOLLOWED = "links are not followed, so it was not graded"
# What zipfile and zlib raise on malformed input; every header field is the sender's choice.
_ZIP_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
    NotImplementedError, RuntimeError, IndexError, KeyError, OverflowError,
)


class _Unreadable(Exception):
    """The whole submission cannot be graded; the message is its error."""


@dataclass(frozen=True)
class _File:
    """A candidate file inside a submission, read lazily with a byte cap."""

    parts: tuple[str, ...]
    size: int
    read: Callable[[int], bytes]

    @property
    def shown(self) -> str:
        """Path inside the submission, as the student knows it, safe to print."""
        return _plain("/".join(self.parts))


@dataclass
class _Listing:
    """What a submission holds: candidate files, notes for the student, bytes left to read."""

    origin: str
    notes: list[str]
    files: list[_File] = field(default_factory=list)
    count: int = 0
    budget: int = MAX_TOTAL_BYTES

    def add(self, file: _File) -> None:
        """Record one file, refusing submissions with absurdly many."""
        self.count += 1
        if self.count > MAX_FILES:
            many = f"more than {MAX_FILES:,} files"
            raise _Unreadable(f"{self.origin} holds {many}; send only your exercises")
        if file.parts[-1].lower().endswith(".zip"):
            ignored = f"nested archive {file.shown} was ignored"
            self.notes.append(f"{ignored}; submit the .py files directly")
        elif file.parts[-1].endswith((".py", ".ipynb")):
            self.files.append(file)


@dataclass(frozen=True)
class _Entry:
    """One submission found in the submissions folder, before it is read."""

    kind: Kind
    path: Path
    origin: str
    base: str


def safe_id(name: str) -> str:
    """Map any name to a folder name of [A-Za-z0-9._ -], adding a hash when it had to change."""
    cleaned = _UNSAFE_CHARS.sub("_", name).lstrip(" .-")[:MAX_ID_LENGTH].rstrip(" .")
    reserved = cleaned.split(".")[0].lower() in _RESERVED
    if cleaned == name and cleaned and not reserved:
        return cleaned
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned or 'submission'}-{digest}"


def discover(path: Path, workdir: Path, *, expected: Sequence[str] = EXERCISES) -> list[Submission]:
    """Find every submission under path (or path itself as one submission), sorted by id.

    workdir is the run's scratch folder; discovery reads archives in memory and writes nothing.
    """
    entries = _entries(path, expected)
    found = [_load(entry, sub_id, notes, expected) for entry, sub_id, notes in _assign_ids(entries)]
    return sorted(found, key=lambda s: (s.id.casefold(), s.id))


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
            return [_Entry("folder", resolved, resolved.name, resolved.name)]
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


def _hidden(name: str) -> bool:
    """Whether a file or folder is hidden or tool clutter, skipped without a note."""
    return name.startswith(".") or name in _JUNK


def _entry_for(path: Path, name: str) -> _Entry | None:
    """Classify one entry of the submissions folder; None for anything that is not a submission."""
    if _hidden(name):
        return None
    lowered = name.lower()
    if lowered.endswith(".zip"):
        return _Entry("zip", path, name, name[: -len(".zip")])
    if lowered.endswith(".ipynb"):
        return _Entry("ipynb", path, name, name[: -len(".ipynb")])
    if path.is_symlink():
        # A link that looks like a student's folder is reported (by _load) rather than dropped.
        return _Entry("folder", path, name, name) if "." not in name else None
    return _Entry("folder", path, name, name) if path.is_dir() else None


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
    listing = _Listing(entry.origin, list(notes))
    try:
        if entry.path.is_symlink():
            raise _Unreadable(f"{entry.origin} is a symbolic link; {_NOT_FOLLOWED}")
        if entry.kind == "folder":
            _walk(entry.path, (), listing)
        elif entry.kind == "zip":
            _list_zip(entry.path, listing)
        else:
            size = entry.path.stat().st_size
            listing.add(_File((entry.origin,), size, partial(_read_path, entry.path)))
        sources, error = _collect(listing, expected)
    except _Unreadable as exc:
        sources, error = {}, str(exc)
    except Exception as exc:  # noqa: BLE001 - one hostile submission must not stop the class
        sources, error = {}, f"{entry.origin} could not be processed ({type(exc).__name__})"
    return Submission(sub_id, sources, tuple(listing.notes), entry.origin, error)


def _walk(folder: Path, prefix: tuple[str, ...], listing: _Listing) -> None:
    """List a folder's files without following links, down to MAX_DEPTH folders."""
    try:
        with os.scandir(folder) as scan:
            children = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        # strerror only: the full OSError text would show the grader's own paths.
        shown = _plain("/".join(prefix)) or listing.origin
        listing.notes.append(f"folder {shown} could not be read ({exc.strerror})")
        return
    for child in children:
        parts = (*prefix, child.name)
        if _hidden(child.name):
            continue
        if child.is_symlink():
            listing.notes.append(f"{_plain('/'.join(parts))} is a symbolic link; {_NOT_FOLLOWED}")
        elif child.is_dir(follow_symlinks=False):
            if len(prefix) < MAX_DEPTH:
                _walk(Path(child.path), parts, listing)
        elif not child.is_file(follow_symlinks=False):
            listing.notes.append(f"{_plain('/'.join(parts))} is not a regular file; it was skipped")
        else:
            size = child.stat(follow_symlinks=False).st_size
            listing.add(_File(parts, size, partial(_read_path, Path(child.path))))


def _read_path(path: Path, limit: int) -> bytes:
    """Read at most limit bytes, refusing a link that replaced the file since it was listed."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    with os.fdopen(os.open(path, flags), "rb") as handle:
        return handle.read(limit)


def _list_zip(path: Path, listing: _Listing) -> None:
    """List an archive's members, refusing every member that could escape or explode."""
    origin = listing.origin
    size = path.lstat().st_size
    if size > MAX_ARCHIVE_BYTES:
        limit = f"the {MAX_ARCHIVE_BYTES // MiB} MiB limit for an archive"
        raise _Unreadable(f"{origin} is {_mb(size)}, larger than {limit}; it was not graded")
    try:
        data = _read_path(path, MAX_ARCHIVE_BYTES)
    except OSError as exc:
        raise _Unreadable(f"{origin} could not be read ({exc.strerror})") from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _ZIP_ERRORS as exc:
        raise _Unreadable(f"{origin} is not a readable zip file: {_reason(exc)}") from None
    for info in members:
        parts = _member_parts(info.filename)
        if parts is not None and (info.is_dir() or not parts or len(parts) > MAX_DEPTH + 1):
            continue
        if parts is not None and any(_hidden(p) for p in parts):
            continue
        problem = _member_problem(info, parts)
        if problem or parts is None:
            listing.notes.append(f"skipped archive member {_show(info.filename)}: {problem}")
        else:
            listing.add(_File(parts, info.file_size, partial(_read_member, archive, info, origin)))


def _member_parts(name: str) -> tuple[str, ...] | None:
    """A member name split into parts, or None when it is absolute or climbs out."""
    if name.startswith("/") or "\\" in name or "\x00" in name or _DRIVE.match(name):
        return None
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    return None if ".." in parts else parts


def _member_problem(info: zipfile.ZipInfo, parts: tuple[str, ...] | None) -> str | None:
    """Why a member must be skipped with a note, judged from its name and declared header."""
    if parts is None:
        return "its path points outside the submission"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "it is a symbolic link"
    if not parts[-1].endswith((".py", ".ipynb")):
        return None  # never decompressed, so nothing to guard against
    if info.flag_bits & 0x1:
        return "it is password-protected"
    ratio = info.file_size / max(info.compress_size, 1)
    # Above its size limit a member is refused by size, which tells the student more.
    limit = MAX_SOURCE_BYTES if parts[-1].endswith(".py") else MAX_NOTEBOOK_BYTES
    if 64 * 1024 < info.file_size <= limit and ratio > MAX_RATIO:
        return f"it is compressed {ratio:.0f} to 1, too far for source code (a possible zip bomb)"
    return None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, origin: str, limit: int) -> bytes:
    """Decompress at most limit bytes; headers can lie, so the cap holds while streaming."""
    try:
        with archive.open(info) as handle:
            return handle.read(limit)
    except _ZIP_ERRORS as exc:
        raise _Unreadable(f"{origin} is not a readable zip file: {_reason(exc)}") from None


def _collect(listing: _Listing, expected: Sequence[str]) -> tuple[dict[str, str], str | None]:
    """Pick and read exercise modules, notebook modules and helpers; return sources and error."""
    sources: dict[str, str] = {}
    folders: set[tuple[str, ...]] = set()
    python = sorted((f for f in listing.files if f.parts[-1].endswith(".py")), key=_depth_order)
    for name in expected:
        chosen = _pick(name, python, listing.notes)
        text = _source(chosen, listing) if chosen else None
        if chosen and text is not None:
            sources[name] = text
            folders.add(chosen.parts[:-1])
    missing = [n for n in expected if n not in sources and n in FUNCTIONS]
    notebook_error = _from_notebooks(listing, missing, sources, folders) if missing else None
    for file in python:
        stem = file.parts[-1][: -len(".py")]
        if file.parts[:-1] in folders and stem not in sources and _is_helper(stem, expected):
            text = _source(file, listing)
            if text is not None:
                sources[stem] = text
    if any(n in sources for n in expected):
        return sources, None
    if notebook_error:
        listing.notes.remove(notebook_error)  # shown once, as the error
        return sources, notebook_error
    wanted = ", ".join(f"{n}.py" for n in expected)
    return sources, f"no exercise files found in {listing.origin}: expected {wanted} or a notebook"


def _depth_order(file: _File) -> tuple[int, tuple[str, ...]]:
    """Shallowest first, then path order."""
    return len(file.parts), file.parts


def _pick(name: str, python: list[_File], notes: list[str]) -> _File | None:
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


def _from_notebooks(
    listing: _Listing, missing: list[str], sources: dict[str, str], folders: set[tuple[str, ...]]
) -> str | None:
    """Fill missing modules from the submission's notebooks; return the first notebook's error."""
    first_error: str | None = None
    notebooks = (f for f in listing.files if f.parts[-1].endswith(".ipynb"))
    for file in sorted(notebooks, key=_depth_order):
        data = _read_capped(file, MAX_NOTEBOOK_BYTES, listing)
        if data is None:
            continue
        try:
            modules, notes = notebook_modules(file.shown, data)
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


def _read_capped(file: _File, limit: int, listing: _Listing) -> bytes | None:
    """A file's bytes within its own cap and the submission's budget, or None with a note."""
    too_large = f"larger than the {limit // MiB} MiB limit; it was not graded"
    if file.size > limit:
        listing.notes.append(f"{file.shown} is {_mb(file.size)}, {too_large}")
        return None
    cap = min(limit, listing.budget)
    try:
        # One byte past the cap tells an oversized file (whatever a header claimed) from a full one.
        data = file.read(cap + 1)
    except OSError as exc:
        listing.notes.append(f"{file.shown} could not be read ({exc.strerror}); it was not graded")
        return None
    listing.budget -= min(len(data), cap)
    if len(data) <= cap:
        return data
    if cap == limit:
        listing.notes.append(f"{file.shown} is {too_large}")
    else:
        total = f"{MAX_TOTAL_BYTES // MiB} MiB"
        listing.notes.append(f"{file.shown} was not graded: the submission holds more than {total}")
    return None


def _source(file: _File, listing: _Listing) -> str | None:
    """Read a .py file as text, with a note for anything that keeps it from being graded as sent."""
    data = _read_capped(file, MAX_SOURCE_BYTES, listing)
    if data is None:
        return None
    if b"\x00" in data:
        listing.notes.append(f"{file.shown} is a binary file, not Python source; it was not graded")
        return None
    try:
        # Honours a PEP 263 coding line, as Python itself would when importing the file.
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        # Keep the file: the student then sees Python's own error at the unreadable line.
        listing.notes.append(
            f"{file.shown} is not valid UTF-8 text; unreadable characters were replaced with \ufffd"
        )
        return data.decode("utf-8", errors="replace")


def _mb(size: int) -> str:
    """A byte count in MB for a student-facing note."""
    return f"{size / MiB:.1f} MB"


def _plain(name: str) -> str:
    """An untrusted name without control characters, bounded in length (zip names reach 64 KiB)."""
    printable = "".join(c if c.isprintable() else "?" for c in name)
    return printable if len(printable) <= 80 else printable[:77] + "..."


def _show(name: str) -> str:
    """An untrusted name, quoted, as _plain makes it."""
    return repr(_plain(name))


def _reason(exc: BaseException) -> str:
    """The gist of an archive error, without any of the grader's own paths."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return _show(str(exc) or type(exc).__name__)[1:-1]
