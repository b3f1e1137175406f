"""Pytest plugin for running an exercise's public checks on a student's own machine.

Each exercise folder's conftest.py loads it with `pytest_plugins = ["grader.judge.local"]`. It
gives the tests the same fixtures the grading engine does, minus the sandbox:

- `student`: the student's module for the test's exercise, imported from the file next to the
  test file (e.g. losses.py beside test_losses_public.py), once per pytest session;
- `rng`: a NumPy Generator seeded per test, reproducible from run to run.

The course's shared code (exercises/shared/ beside the exercise folders: detectors and checks the
tests import by name) is put on sys.path before a test file is imported, as the judge does.

When a test fails on a known misconception, the failure report gains a section with the
misconception and the lesson's hint; a wrong answer no detector recognised gains what was
observed of it (see grader.judge.observations).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
import zlib
from collections.abc import Generator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from grader.handout import SHARED_FOLDER
from grader.judge.diagnosis import diagnose_answer, diagnose_error, function_code
from grader.judge.errors import PitfallDetected, StudentError
from grader.judge.observations import Seen
from grader.pitfalls import lookup

#: Base seed of the `rng` fixture; set GRADE_SEED to reproduce a run from the grader's report.
SEED_VARIABLE = "GRADE_SEED"

_MODULES = pytest.StashKey[dict[Path, ModuleType | str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "grade(exercise, visibility, function, points, pitfall): grading metadata of a test",
    )
    config.stash[_MODULES] = {}


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> None:
    """Make the course's shared code importable before the test file at module_path is imported.

    It lives beside the test's exercise folder (exercises/<exercise>/test_*.py and
    exercises/shared/), in a handout as in the course. First on sys.path, as pytest puts the
    test's own folder; never taken off, as pytest leaves that one too.
    """
    shared = module_path.parent.parent / SHARED_FOLDER
    if shared.is_dir() and str(shared) not in sys.path:
        sys.path.insert(0, str(shared))


def grade_marker(item: pytest.Item) -> dict[str, Any]:
    """The test's `grade` metadata: all grade markers merged, the closest one winning."""
    merged: dict[str, Any] = {}
    for mark in item.iter_markers("grade"):
        for key, value in mark.kwargs.items():
            merged.setdefault(key, value)
    return merged


def _load(path: Path, exercise: str) -> ModuleType | str:
    """The module at `path`, or the message explaining why it cannot be used."""
    if not path.is_file():
        return (
            f"{path.name} was not found in {path.parent}. The public checks import your "
            f"solution from {path.name} next to the test file; keep that file name."
        )
    spec = importlib.util.spec_from_file_location(exercise, path)
    if spec is None or spec.loader is None:
        return f"{path.name} cannot be loaded as a Python module."
    module = importlib.util.module_from_spec(spec)
    sys.modules[exercise] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any failure at import time is reported the same way
        del sys.modules[exercise]
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return (
            f"{path.name} could not be imported, so none of its functions can be checked.\n"
            f"{detail}\nFix this first (run `python {path.name}` to see the full traceback)."
        )
    return module


@pytest.fixture
def student(request: pytest.FixtureRequest) -> ModuleType:
    """The student's module for this test's exercise."""
    exercise = grade_marker(request.node).get("exercise")
    if not isinstance(exercise, str):
        raise pytest.UsageError(f"{request.node.nodeid} has no grade(exercise=...) marker")
    path = Path(request.node.path).parent / f"{exercise}.py"
    cache = request.config.stash[_MODULES]
    if path not in cache:
        cache[path] = _load(path, exercise)
    loaded = cache[path]
    if isinstance(loaded, str):
        pytest.fail(loaded, pytrace=False)
    return loaded


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A Generator seeded from GRADE_SEED (default 0) and the test's id."""
    seed = int(os.environ.get(SEED_VARIABLE, "0"))
    return np.random.default_rng([seed, zlib.crc32(request.node.nodeid.encode())])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if call.when != "call" or call.excinfo is None or not report.failed:
        return
    marks = grade_marker(item)
    function = marks.get("function") if isinstance(marks.get("function"), str) else None
    source = Path(item.path).parent / f"{marks.get('exercise')}.py"
    pitfall = _pitfall_of(call.excinfo.value, function, source)
    entry = lookup(pitfall) if pitfall else None
    seen = getattr(call.excinfo.value, "observation", None)
    # A pitfall found by the course's detectors for the function says it better.
    if (isinstance(seen, Seen) and seen.text
            and (pitfall is None or isinstance(call.excinfo.value, PitfallDetected))):
        report.sections.append(("What was observed", seen.text))
    if entry is not None:
        report.sections.append(
            ("What went wrong", f"{entry.misconception}\nHint: {entry.hint}")
        )


def _pitfall_of(exc: BaseException, function: str | None, source: Path) -> str | None:
    if isinstance(exc, PitfallDetected):
        return exc.pitfall
    if isinstance(exc, StudentError):
        return diagnose_error(exc.message, exc.function or function, exc.kind, exc.code)
    if isinstance(exc, NotImplementedError):
        return "not_implemented"
    observed = getattr(exc, "observed", None)
    if isinstance(exc, AssertionError) and isinstance(observed, tuple) and len(observed) == 3:
        found = diagnose_answer(function, *observed)
        return found.pitfall if found is not None else None
    return diagnose_error(f"{type(exc).__name__}: {exc}", function, code=_code(source, function))


def _code(source: Path, function: str | None) -> str:
    """The student's code of `function`, read from the module next to the test."""
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    return function_code(text, function) if function else text
