"""Crash-safe file writes and path containment for everything the grader writes out."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path


@functools.cache
def _umask() -> int:
    """The process umask, read once (os.umask can only be read by setting it)."""
    current = os.umask(0o022)
    os.umask(current)
    return current


def _fsync_dir(folder: Path) -> None:
    """Flush a directory entry so a rename survives a power loss; best effort."""
    flags = getattr(os, "O_DIRECTORY", 0) | os.O_RDONLY
    try:
        fd = os.open(folder, flags)
    except OSError:
        return  # some platforms (Windows) cannot open directories; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace path with data so readers see either the old file or the new one, never a mix.

    durable=False skips flushing the file to disk: the rename still makes it all-or-nothing
    for anyone reading, and a killed run still leaves no half-written file, but a power loss
    may lose it unless flush_all() runs after (one flush for many files instead of one each)."""
    path = Path(path)
    folder = path.parent
    # Same folder as the target: os.replace is only atomic within one filesystem.
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
            # mkstemp creates 0600; give the file the mode a plain open() would have.
            with contextlib.suppress(OSError, AttributeError):
                os.fchmod(handle.fileno(), 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(folder)


def write_text_atomic(path: Path, text: str, durable: bool = True) -> None:
    """Write text as UTF-8 atomically, byte for byte (no newline translation)."""
    write_bytes_atomic(path, text.encode("utf-8"), durable)


def flush_all() -> None:
    """Flush every file written with durable=False to disk (best effort; where os.sync exists)."""
    if hasattr(os, "sync"):
        os.sync()


def safe_child(out_dir: Path, *parts: str) -> Path:
    """out_dir joined with parts, refusing any result that escapes out_dir."""
    base = Path(out_dir).resolve()
    for part in parts:
        if not part or "\x00" in part:
            raise ValueError(f"unsafe path component {part!r}")
    candidate = base.joinpath(*parts).resolve()
    # resolve() follows symlinks too, so a link pointing outside is caught like '../x'.
    if candidate == base or not candidate.is_relative_to(base):
        shown = "/".join(parts)
        raise ValueError(f"path {shown!r} is not inside {str(base)!r}")
    return candidate


def probe_folder(folder: Path) -> None:
    """Raise the OSError that writing a file in folder would meet, or return having left the file
    system as it was: missing folders are created for the probe and removed again."""
    target = Path(folder).absolute()
    # Deepest first, so they can be removed in this order.
    missing = [p for p in (target, *target.parents) if not p.exists()]
    try:
        target.mkdir(parents=True, exist_ok=True)
        # Named like write_bytes_atomic's temporaries: a run killed here leaves one that the
        # next run's clean-up removes.
        fd, name = tempfile.mkstemp(dir=target, prefix=".grade-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(name)
    finally:
        for path in missing:
            with contextlib.suppress(OSError):
                path.rmdir()


class AtomicFile:
    """A file written piece by piece into a temporary beside path, which replaces path all at
    once on commit(): readers see the old file or the whole new one, never a part.

    Nothing is held in memory but the write buffer, so a file as large as a whole class costs no
    more than a small one. Leaving the `with` block without commit() removes the temporary."""

    def __init__(self, path: Path, durable: bool = True) -> None:
        self.path = Path(path)
        self._durable = durable
        # Named like write_bytes_atomic's temporaries: a killed run's leftovers are cleaned alike.
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.",
                                    suffix=".tmp")
        self._tmp = Path(name)
        self._handle = os.fdopen(fd, "wb")
        self._done = False

    def write(self, text: str) -> None:
        """Append text as UTF-8, byte for byte (what csv.writer and print need of a file)."""
        self._handle.write(text.encode("utf-8"))

    def write_bytes(self, data: bytes) -> None:
        """Append data."""
        self._handle.write(data)

    def commit(self) -> Path:
        """Put the file in place of path (flushed to disk first when durable); its path."""
        handle = self._handle
        handle.flush()
        if self._durable:
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError, AttributeError):
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
        handle.close()
        os.replace(self._tmp, self.path)
        self._done = True
        if self._durable:
            _fsync_dir(self.path.parent)
        return self.path

    def discard(self) -> None:
        """Drop the temporary, leaving path as it was (nothing once committed)."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):  # a full disk fails the flush that close() does
            self._handle.close()
        with contextlib.suppress(OSError):
            self._tmp.unlink()

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
