"""The judge's pytest plugin: parametrizes the suites over a shard's submissions and backs the
`student` fixture with the sandbox.

Like pytest's junitxml, results are collected through hooks: per test, the metadata pytest-json-report
writes (exercise, function, points, visibility, the student-facing message and the pitfall); at
session end, the isolation level and the plot data for every submission.
"""

from __future__ import annotations

import importlib.util
import os
import types
import zlib
from typing import Any, Iterator

import numpy as np
import pytest

from grader.judge import checks, plots
from grader.judge.errors import PitfallDetected, StudentError
from grader.judge.manifest import Manifest
from grader.judge.proxy import StudentModule
from grader.paths import reference_dir
from grader.records import CallResult
from grader.sandbox.client import Sandbox, SandboxConfig, Session


_MARKS = pytest.StashKey[dict[str, Any]]()


def grade_marks(item: pytest.Item) -> dict[str, Any]:
    """Merge every `grade` marker of a test, the closest (the function's own) winning.

    Computed once per item: walking the markers is a visible share of the per-test cost.
    """
    merged = item.stash.get(_MARKS, None)
    if merged is None:
        merged = {}
        for mark in reversed(list(item.iter_markers("grade"))):
            merged.update(mark.kwargs)
        item.stash[_MARKS] = merged
    return merged


def test_id(item: pytest.Item) -> str:
    """'<suite stem>::<test name>', the same for every submission."""
    name = item.originalname if isinstance(item, pytest.Function) else item.name
    return f"{item.path.stem}::{name}"


class JudgePlugin:
    """Runs one shard: one sandbox worker, one child per submission at a time."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.ids = [s.id for s in manifest.submissions if s.error is None]
        self.sources = {s.id: s.sources for s in manifest.submissions}
        self.sandbox = Sandbox(SandboxConfig(
            timeout=manifest.timeout, memory_bytes=manifest.memory_bytes,
            hide=manifest.hide, workdir=manifest.workdir))
        self.current: tuple[str, Session] | None = None
        self.calls: list[CallResult] = []
        self.curves: dict[str, list[dict[str, Any]]] = {}
        self.references: dict[str, types.ModuleType] = {}
        self.item: pytest.Item | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "grade(**kw): exercise, function, points, visibility, pitfall")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "student" in metafunc.fixturenames:
            metafunc.parametrize("submission_id", self.ids, ids=self.ids)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        wanted = set(self.manifest.exercises)
        kept = [it for it in items if grade_marks(it).get("exercise") in wanted]
        order = {sid: n for n, sid in enumerate(self.ids)}
        # One child per submission at a time: run all of a submission's tests together.
        kept.sort(key=lambda it: order.get(_submission_of(it), -1))
        items[:] = kept

    def _session(self, submission_id: str) -> Session:
        if self.current is not None and self.current[0] == submission_id:
            return self.current[1]
        self._finish_current()
        session = self.sandbox.open(self.sources[submission_id])
        self.current = (submission_id, session)
        return session

    def _finish_current(self) -> None:
        if self.current is None:
            return
        sid, session = self.current
        try:
            if self.manifest.plots:
                self.curves[sid] = plots.sample(session, self._reference, self.manifest.exercises)
        except Exception:  # noqa: BLE001 - a missing plot must never cost a test result
            self.curves[sid] = []
        finally:
            session.close()
        self.current = None
        if self.manifest.progress_fd >= 0:
            os.write(self.manifest.progress_fd, f"{sid}\n".encode())

    def _reference(self, exercise: str) -> types.ModuleType:
        if exercise not in self.references:
            path = reference_dir() / f"{exercise}.py"
            spec = importlib.util.spec_from_file_location(f"_reference_{exercise}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self.references[exercise] = module
        return self.references[exercise]

    # The fixtures read the running test from self.item rather than asking for `request`: pytest
    # builds a fixture definition for every `request` asked for, a visible share of each test.
    @pytest.fixture
    def student(self, submission_id: str) -> Any:
        exercise = grade_marks(self._running())["exercise"]
        return StudentModule(self._session(submission_id), exercise, self.calls.append)

    @pytest.fixture
    def reference(self) -> types.ModuleType:
        return self._reference(grade_marks(self._running())["exercise"])

    @pytest.fixture
    def rng(self) -> np.random.Generator:
        return np.random.default_rng([self.manifest.seed, zlib.crc32(test_id(self._running()).encode())])

    def _running(self) -> pytest.Item:
        assert self.item is not None, "fixtures are set up inside pytest_runtest_setup"
        return self.item

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        self.item = item
        self.calls.clear()
        yield

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> pytest.TestReport | None:
        """A failure's report with a one-line longrepr.

        pytest's own traceback formatting parses the test's source for every failure, which
        cost most of a judge's time on a class with many mistakes; the student-facing message
        comes from the metadata anyway.
        """
        excinfo = call.excinfo
        if excinfo is None or isinstance(excinfo.value, pytest.skip.Exception):
            return None
        text = f"{type(excinfo.value).__name__}: {str(excinfo.value)[:500]}"
        return pytest.TestReport(
            item.nodeid, item.location, {x: 1 for x in item.keywords}, "failed", text,
            call.when, [], call.duration, call.start, call.stop,  # type: ignore[arg-type]
            user_properties=item.user_properties)

    def pytest_json_runtest_metadata(self, item: pytest.Item, call: pytest.CallInfo[None]) -> dict[str, Any]:
        if call.when == "setup":
            return _static_metadata(item)
        if call.when != "call":
            return {}
        meta: dict[str, Any] = {"advisories": _advisories(self.calls)}
        if call.excinfo is not None:
            meta.update(_failure_metadata(call.excinfo.value, grade_marks(item).get("function")))
        return meta

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._finish_current()
        self.sandbox.close()

    def pytest_json_modifyreport(self, json_report: dict[str, Any]) -> None:
        json_report["grader"] = {
            "isolation": list(self.sandbox.isolation or ()),
            "curves": self.curves,
        }


def _submission_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return str(callspec.params.get("submission_id", "")) if callspec is not None else ""


def _static_metadata(item: pytest.Item) -> dict[str, Any]:
    marks = grade_marks(item)
    doc = (getattr(item, "obj", None).__doc__ or "").strip().splitlines()
    return {
        "submission": _submission_of(item),
        "test_id": test_id(item),
        "exercise": marks.get("exercise"),
        "function": marks.get("function"),
        "points": float(marks.get("points", 1.0)),
        "visibility": marks.get("visibility", "hidden"),
        "pitfall": marks.get("pitfall"),
        "title": doc[0] if doc else item.name,
    }


def _failure_metadata(exc: BaseException, function: str | None) -> dict[str, Any]:
    """Outcome kind, student-facing message and detected pitfall for a failed test."""
    if isinstance(exc, StudentError):
        pitfall = checks.diagnose_error(exc.message, function, exc.kind)
        return {"kind": exc.outcome, "error_kind": exc.kind, "message": exc.message,
                "detected_pitfall": pitfall}
    if isinstance(exc, AssertionError):
        pitfall = exc.pitfall if isinstance(exc, PitfallDetected) else None
        return {"kind": "failed", "message": _assert_text(exc), "detected_pitfall": pitfall}
    return {"kind": "internal", "message": f"the grader failed inside this test "
            f"({type(exc).__name__}: {str(exc)[:300]}); please tell your instructor"}


def _assert_text(exc: AssertionError) -> str:
    text = str(exc).strip()
    # pytest's assertion rewriting appends its own introspection after the message line(s)
    # of a bare assert; a student gains nothing from 'assert False' noise.
    text = text.split("\nassert ", 1)[0]
    return text[:3000] or "wrong answer"


def _advisories(calls: list[CallResult]) -> list[str]:
    seen: list[str] = []
    for result in calls:
        for warning in result.warnings:
            # Underflow to 0 is the right answer for e^-1000; NumPy itself ignores it by default.
            if "underflow" in warning:
                continue
            if warning not in seen:
                seen.append(warning)
    return seen[:5]
