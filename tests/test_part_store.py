"""Part folders kept in an fsspec store (grader.part_store): what a package publishes is what the
caller fetches, a copy cut short is never taken for a finished one, and bad URLs are one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fsspec")

from grader.errors import UsageError  # noqa: E402
from grader.part_store import open_store  # noqa: E402
from grader.parts import COMPLETE_FILE, PARTS_DIR  # noqa: E402


def a_package(folder: Path, parts: dict[str, str], complete: bool = True) -> Path:
    (folder / PARTS_DIR).mkdir(parents=True)
    for name, text in parts.items():
        (folder / PARTS_DIR / name).write_text(text)
    if complete:
        (folder / PARTS_DIR / COMPLETE_FILE).write_text("{}\n")
    return folder


def listing(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((folder / PARTS_DIR).iterdir())}


def test_published_parts_are_fetched_as_they_were(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path / 'store'}")
    worker = a_package(tmp_path / "worker", {"part-1.jsonl": "one\n", "part-2.jsonl": "two\n"})
    store.publish(worker, "00001-of-00002")
    here = a_package(tmp_path / "here", {"stale.jsonl": "old\n"}, complete=False)
    assert store.fetch("00001-of-00002", here)
    assert listing(here) == listing(worker)
    assert not store.fetch("00002-of-00002", tmp_path / "none")
    assert not (tmp_path / "none" / PARTS_DIR).exists()


def test_a_republished_package_drops_what_its_run_pruned(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path / 'store'}")
    store.publish(a_package(tmp_path / "first", {"part-1.jsonl": "1\n"}), "p")
    store.publish(a_package(tmp_path / "again", {"part-2.jsonl": "2\n"}), "p")
    assert sorted(p.name for p in (tmp_path / "store" / "p" / PARTS_DIR).iterdir()) == [
        COMPLETE_FILE, "part-2.jsonl"]


def test_a_publish_cut_short_leaves_no_completion_record(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(f"file://{tmp_path / 'store'}")
    store.publish(a_package(tmp_path / "first", {"part-1.jsonl": "1\n"}), "p")
    sent: list[str] = []

    def put_file(local: str, remote: str) -> None:
        if sent:
            raise OSError("connection lost")
        sent.append(remote)
    monkeypatch.setattr(store.fs, "put_file", put_file)
    with pytest.raises(OSError):
        store.publish(a_package(tmp_path / "again", {"a.jsonl": "a\n", "b.jsonl": "b\n"}), "p")
    assert not (tmp_path / "store" / "p" / PARTS_DIR / COMPLETE_FILE).exists()


def test_urls_that_cannot_be_a_store_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^--parts-url nope://x: .*nope"):
        open_store("nope://x")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match=rf"^--parts-url file://{blocker}/store: cannot create "):
        open_store(f"file://{blocker}/store")


def test_parts_url_without_dask_is_refused(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "grader", str(tmp_path), "--out",
                           str(tmp_path.parent / f"{tmp_path.name}-out"), "--parts-url",
                           f"file://{tmp_path}/store"], capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stderr) == (2, "grade: error: --parts-url is where Dask "
                                              "workers keep their parts: use it with "
                                              "--executor dask\n")
