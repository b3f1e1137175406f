"""Part folders kept in an fsspec store (s3://, gs://, az://, file://...) instead of a folder
every worker mounts.

A Dask package is graded into a folder of its worker's own and its parts are then published to
the store under the package's name; the caller fetches each package's parts as it finishes and
merges them from its own disk. A package that runs again (a retry, or the same command after a
failure) first fetches what the store holds, so its finished parts are reused as on a shared
folder. Only the parts travel: the merge writes every output, the pages included, from them.

fsspec comes with the dask extra; the backend of a URL (s3fs, gcsfs...) is installed as fsspec
says when it is missing.
"""

from __future__ import annotations

import importlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import UsageError
from grader.parts import COMPLETE_FILE, PARTS_DIR


@dataclass(frozen=True)
class PartStore:
    """A folder of part folders in an fsspec file system."""

    fs: Any
    """The fsspec file system (fsspec is untyped)."""
    root: str
    """The store's folder in it, without a trailing slash."""

    def _remote(self, name: str) -> str:
        return f"{self.root}/{name}/{PARTS_DIR}"

    def fetch(self, name: str, folder: Path) -> bool:
        """Make folder/.parts a copy of package `name`'s parts in the store; False when the
        store has none."""
        remote = self._remote(name)
        local = folder / PARTS_DIR
        shutil.rmtree(local, ignore_errors=True)  # an earlier copy: the store's is the one
        if not self.fs.isdir(remote):
            return False
        local.mkdir(parents=True, exist_ok=True)
        for path in self.fs.ls(remote, detail=False):
            target = local / path.rstrip("/").rsplit("/", 1)[-1]
            # Through a temporary name: a fetch cut short leaves no part that looks whole.
            partial = target.with_name(f".{target.name}.fetching")
            self.fs.get_file(path, str(partial))
            partial.replace(target)
        return True

    def publish(self, folder: Path, name: str) -> None:
        """Make the store's copy of package `name` what folder/.parts holds: parts first, the
        completion record last, so that a copy cut short is never taken for a finished one."""
        remote = self._remote(name)
        local = folder / PARTS_DIR
        keep = {p.name for p in local.iterdir() if p.is_file()}
        self.fs.makedirs(remote, exist_ok=True)
        complete = f"{remote}/{COMPLETE_FILE}"
        if self.fs.exists(complete):
            self.fs.rm_file(complete)
        for path in self.fs.ls(remote, detail=False):
            if path.rstrip("/").rsplit("/", 1)[-1] not in keep:
                self.fs.rm_file(path)  # a part the run pruned as superseded
        for file in sorted(keep - {COMPLETE_FILE}):
            self.fs.put_file(str(local / file), f"{remote}/{file}")
        if COMPLETE_FILE in keep:
            self.fs.put_file(str(local / COMPLETE_FILE), complete)


def open_store(url: str) -> PartStore:
    """The store at url, created if missing; UsageError (one line) for a URL fsspec cannot open
    or a store that cannot be written."""
    try:
        core = importlib.import_module("fsspec.core")
    except ImportError as exc:
        from grader.dask_run import install_hint  # only a dask run comes here
        raise UsageError(f"--parts-url needs fsspec, part of the dask extra: {install_hint()}"
                         ) from exc
    try:
        fs, root = core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # an unknown protocol, or its backend missing
        raise UsageError(f"--parts-url {url}: {exc}") from None
    store = PartStore(fs, str(root).rstrip("/") or "/")
    try:
        fs.makedirs(store.root, exist_ok=True)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--parts-url {url}: cannot create the store "
                         f"({getattr(exc, 'strerror', None) or exc})") from None
    return store
