"""A judge serves shard after shard: nothing of a finished shard may stay in its memory.

pytest's session, items and reports hold each other in reference cycles, which only the cyclic
collector frees; left to its rare full collections, many shards' worth pile up and a judge's
heap grows with the class. The judge settles after every shard (runner._settle).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader import course, engine, paths, submissions
from grader.judge import runner
from grader.sandbox.portable import PortableSandbox


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """_settle freezes what outlived a shard: hand this test process's objects back to the
    collector afterwards."""
    yield
    gc.unfreeze()


def _shard(tmp_path: Path, number: int) -> list[Any]:
    folder = tmp_path / f"class-{number}" / f"student-{number}"
    folder.mkdir(parents=True)
    for name in course.exercises():
        (folder / f"{name}.py").write_text((paths.reference_dir() / f"{name}.py").read_text())
    return submissions.discover(folder.parent, tmp_path)


def test_nothing_of_a_settled_shard_stays_alive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 unfrozen: None) -> None:
    sessions: list[weakref.ref[pytest.Session]] = []

    class Recorder:
        def pytest_sessionstart(self, session: pytest.Session) -> None:
            sessions.append(weakref.ref(session))

    real_main = runner.pytest.main
    monkeypatch.setattr(runner.pytest, "main", lambda args, plugins: real_main(
        args, plugins=[*plugins, Recorder()]))
    options = engine.GradeOptions(jobs=1, portable=True, plots=False)
    suites = course.suite_files(options.exercises, options.visible_only)
    judge_dir = tmp_path / "judge"
    judge_dir.mkdir()
    judge = runner.Judge(PortableSandbox)
    try:
        for number in range(3):
            manifest = engine._manifest(number, _shard(tmp_path, number), suites, tmp_path,
                                        judge_dir, options, -1)
            assert judge.run_shard(manifest) == 0
            runner._settle()
            alive = [n for n, ref in enumerate(sessions) if ref() is not None]
            # The suites' modules, imported once, keep the loader of the session that imported
            # them, and so that one session: one, however many shards follow.
            assert alive in ([], [0]), f"after shard {number}, sessions {alive} are alive"
    finally:
        judge.close()
    assert len(sessions) == 3
