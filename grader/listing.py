"""Reading one submission's files, trusting none of their bytes: folders walked without
following links, zips read in memory, every read capped (per file and per submission).

Discovery (grader.submissions) decides what a submission is and which modules it grades; this
module lists and reads what it holds, turning every problem into a note for the student or an
Unreadable error for the whole submission.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tokenize
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from grader.notebooks import MAX_NOTEBOOK_BYTES

MiB = 1024 * 1024
MAX_SOURCE_BYTES = 1 * MiB  # the lesson's solutions are a few KiB
MAX_ARCHIVE_BYTES = 20 * MiB  # largest .zip opened
MAX_TOTAL_BYTES = 20 * MiB  # most bytes read, decompressed, from one submission
MAX_FILES = 2000  # most files one submission may hold
MAX_DEPTH = 3  # how many folders deep an exercise module may sit
MAX_RATIO = 100  # largest compression ratio of a sizeable member (zip bomb guard)
_JUNK = frozenset({"__MACOSX", "__pycache__", "node_modules", "site-packages", "venv"})
_DRIVE = re.compile(r"^[A-Za-z]:")
NOT_FOLLOWED = "links are not followed, so it was not graded"
# What zipfile and zlib raise on malformed input; every header field is the sender's choice.
_ZIP_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
    NotImplementedError, RuntimeError, IndexError, KeyError, OverflowError,
)


class Unreadable(Exception):
    """The whole submission cannot be graded; the message is its error."""


@dataclass(frozen=True)
class File:
    """A candidate file inside a submission, read lazily with a byte cap."""

    parts: tuple[str, ...]
    size: int
    read: Callable[[int], bytes]

    @property
    def shown(self) -> str:
        """Path inside the submission, as the student knows it, safe to print."""
        return plain("/".join(self.parts))


@dataclass
class Listing:
    """What a submission holds: candidate files, notes for the student, bytes left to read."""

    origin: str
    notes: list[str]
    files: list[File] = field(default_factory=list)
    count: int = 0
    budget: int = MAX_TOTAL_BYTES

    def add(self, file: File) -> None:
        """Record one file, refusing submissions with absurdly many."""
        self.count += 1
        if self.count > MAX_FILES:
            many = f"more than {MAX_FILES:,} files"
            raise Unreadable(f"{self.origin} holds {many}; send only your exercises")
        if file.parts[-1].lower().endswith(".zip"):
            ignored = f"nested archive {file.shown} was ignored"
            self.notes.append(f"{ignored}; submit the .py files directly")
        elif file.parts[-1].endswith((".py", ".ipynb")):
            self.files.append(file)


def hidden(name: str) -> bool:
    """Whether a file or folder is hidden or tool clutter, skipped without a note."""
    return name.startswith(".") or name in _JUNK


def walk(folder: Path, prefix: tuple[str, ...], listing: Listing) -> None:
    """List a folder's files without following links, down to MAX_DEPTH folders."""
    try:
        with os.scandir(folder) as scan:
            children = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        # strerror only: the full OSError text would show the grader's own paths.
        shown = plain("/".join(prefix)) or listing.origin
        listing.notes.append(f"folder {shown} could not be read ({exc.strerror})")
        return
    for child in children:
        parts = (*prefix, child.name)
        if hidden(child.name):
            continue
        if child.is_symlink():
            listing.notes.append(f"{plain('/'.join(parts))} is a symbolic link; {NOT_FOLLOWED}")
        elif child.is_dir(follow_symlinks=False):
            if len(prefix) < MAX_DEPTH:
                walk(Path(child.path), parts, listing)
        elif not child.is_file(follow_symlinks=False):
            listing.notes.append(f"{plain('/'.join(parts))} is not a regular file; it was skipped")
        else:
            size = child.stat(follow_symlinks=False).st_size
            listing.add(File(parts, size, partial(read_path, Path(child.path))))


def read_path(path: Path, limit: int) -> bytes:
    """Read at most limit bytes, refusing a link that replaced the file since it was listed."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    with os.fdopen(os.open(path, flags), "rb") as handle:
        return handle.read(limit)


def list_zip(path: Path, listing: Listing) -> None:
    """List an archive's members, refusing every member that could escape or explode."""
    origin = listing.origin
    size = path.lstat().st_size
    if size > MAX_ARCHIVE_BYTES:
        limit = f"the {MAX_ARCHIVE_BYTES // MiB} MiB limit for an archive"
        raise Unreadable(f"{origin} is {mb(size)}, larger than {limit}; it was not graded")
    try:
        data = read_path(path, MAX_ARCHIVE_BYTES)
    except OSError as exc:
        raise Unreadable(f"{origin} could not be read ({exc.strerror})") from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _ZIP_ERRORS as exc:
        raise Unreadable(f"{origin} is not a readable zip file: {reason(exc)}") from None
    for info in members:
        parts = _member_parts(info.filename)
        if parts is not None and (info.is_dir() or not parts or len(parts) > MAX_DEPTH + 1):
            continue
        if parts is not None and any(hidden(p) for p in parts):
            continue
        problem = _member_problem(info, parts)
        if problem or parts is None:
            listing.notes.append(f"skipped archive member {show(info.filename)}: {problem}")
        else:
            listing.add(File(parts, info.file_size, partial(_read_member, archive, info, origin)))


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
        raise Unreadable(f"{origin} is not a readable zip file: {reason(exc)}") from None


def read_capped(file: File, limit: int, listing: Listing) -> bytes | None:
    """A file's bytes within its own cap and the submission's budget, or None with a note."""
    too_large = f"larger than the {limit // MiB} MiB limit; it was not graded"
    if file.size > limit:
        listing.notes.append(f"{file.shown} is {mb(file.size)}, {too_large}")
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


def source_text(file: File, listing: Listing) -> str | None:
    """Read a .py file as text, with a note for anything that keeps it from being graded as sent."""
    data = read_capped(file, MAX_SOURCE_BYTES, listing)
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


def mb(size: int) -> str:
    """A byte count in MB for a student-facing note."""
    return f"{size / MiB:.1f} MB"


def plain(name: str) -> str:
    """An untrusted name without control characters, bounded in length (zip names reach 64 KiB)."""
    printable = "".join(c if c.isprintable() else "?" for c in name)
    return printable if len(printable) <= 80 else printable[:77] + "..."


def show(name: str) -> str:
    """An untrusted name, quoted, as plain makes it."""
    return repr(plain(name))


def reason(exc: BaseException) -> str:
    """The gist of an archive error, without any of the grader's own paths."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return show(str(exc) or type(exc).__name__)[1:-1]
