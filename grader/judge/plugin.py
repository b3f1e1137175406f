"""The judge's pytest plugin: runs the suites over a shard's submissions, cohort by cohort, and
backs the `student` fixture with the sandbox.

Each test is one pytest item per cohort (grader.judge.cohort); its body runs once per submission
of the cohort, and each run's verdict (outcome, student-facing message, pitfall, advisories) goes
into the metadata pytest-json-report writes. Like pytest's junitxml, everything is collected
through hooks; at session end come the isolation level and the plot data for every submission.
"""

from __future__ import annotations

import functools
import importlib.util
import time
import types
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from grader.judge import plan, plots, verdict, where_failed
from grader.judge.cohort import Cohort
from grader.judge.manifest import Manifest
from grader.judge.proxy import Call, Grouped, StudentModule, grouped
from grader.judge.watch import Watch
from grader.paths import reference_dir
from grader.records import CallResult
from grader.sandbox.client import MAX_SLOTS, Sandbox


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


#: Verdicts a judge keeps for reuse; past this many it starts afresh, so its memory stays flat.
MEMO_LIMIT = 20_000


@dataclass
class Carried:
    """What a judge keeps from one shard to the next: all of it the same for every shard of
    a run, as long as the run's settings (`key`) stay the same."""

    key: tuple[object, ...] = ()
    """Suites, exercises, seed, limits and plots setting the rest was made with."""
    plan: dict[str, Grouped] | None = None
    """The calls each exercise's tests make, learnt from the reference."""
    memo: dict[tuple[str, bytes], dict[str, Any]] = field(default_factory=dict)
    """Verdicts by (test id, fingerprint of the answers it could read)."""
    where: dict[tuple[str, bytes], where_failed.Failure] = field(default_factory=dict)
    """Where a memo's verdict found a plotted function's wrong values, by the same keys."""
    references: dict[str, types.ModuleType] = field(default_factory=dict)
    """Reference modules by exercise."""
    plots: plots.PlotCache = field(default_factory=plots.PlotCache)
    """Reference curves, and student curves already converted."""

    def for_run(self, key: tuple[object, ...]) -> Carried:
        """Itself if made for these settings, else a fresh one."""
        return self if key == self.key else Carried(key=key)


class JudgePlugin:
    """Runs one shard on a sandbox worker: cohorts of submissions graded side by side."""

    def __init__(self, manifest: Manifest, sandbox: Sandbox, carried: Carried | None = None) -> None:
        self.manifest = manifest
        ids = [s.id for s in manifest.submissions if s.error is None]
        size = max(1, min(manifest.cohort_size, MAX_SLOTS))
        self.cohorts = [ids[i:i + size] for i in range(0, len(ids), size)]
        self.sources = {s.id: s.sources for s in manifest.submissions}
        self.sandbox = sandbox
        self.carried = (carried or Carried()).for_run(
            (manifest.suites, manifest.exercises, manifest.seed, manifest.timeout,
             manifest.memory_bytes, manifest.rootdir, manifest.plots))
        self.current: tuple[int, Cohort] | None = None
        self.curves: dict[str, list[dict[str, Any]]] = {}
        self.item: pytest.Item | None = None
        self.plotted = where_failed.plotted(manifest.exercises) if manifest.plots else {}
        self.failures = where_failed.Failures()

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "grade(**kw): exercise, function, points, visibility, pitfall")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "student" in metafunc.fixturenames:
            names = [f"cohort{n}" for n in range(len(self.cohorts))]
            metafunc.parametrize("cohort", range(len(self.cohorts)), ids=names)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        wanted = set(self.manifest.exercises)
        kept = [it for it in items if grade_marks(it).get("exercise") in wanted]
        # A cohort's children live from its first test to its last: run its tests together.
        kept.sort(key=_cohort_of)
        items[:] = kept
        if self.carried.plan is None:
            self.carried.plan = self._learn_calls([it for it in kept if _cohort_of(it) == 0])
        self.sandbox.prepare([p.request for functions in self.carried.plan.values()
                              for p in functions.values()])

    def _learn_calls(self, items: list[pytest.Item]) -> dict[str, Grouped]:
        """Record the calls each test makes on the reference, to fetch them ahead per submission."""
        calls: dict[str, list[Call]] = {}
        for item in items:
            if not isinstance(item, pytest.Function) or "student" not in item.fixturenames:
                continue
            exercise = grade_marks(item)["exercise"]
            if not _reference_path(exercise).is_file():
                # A student's wheel has no reference/: the calls are then made as the test
                # makes them, one by one (the plan is only a speed-up).
                continue
            known = {"reference": self._reference(exercise), "rng": self._rng(item), "cohort": 0}
            names = item._fixtureinfo.argnames
            if all(name in known or name == "student" for name in names):
                arguments = {name: known[name] for name in names if name != "student"}
                calls.setdefault(exercise, []).extend(
                    plan.record(item.obj, arguments, self._reference(exercise)))
        if self.manifest.plots:
            for exercise, function, args in plots.planned_calls(self.manifest.exercises):
                calls.setdefault(exercise, []).append((function, args, {}))
        return {exercise: grouped(exercise, found) for exercise, found in calls.items()}

    def _cohort(self, number: int) -> Cohort:
        if self.current is not None and self.current[0] == number:
            return self.current[1]
        self._finish_current()
        cohort = Cohort(self.sandbox, self.cohorts[number], self.sources,
                        self.manifest.memory_bytes, self.carried.plan)
        self.current = (number, cohort)
        return cohort

    def _finish_current(self) -> None:
        if self.current is None:
            return
        cohort = self.current[1]
        self.current = None
        found = cohort.finish(self._reference, self.manifest.exercises, self.manifest.plots,
                              self.manifest.progress_fd, self.carried.plots)
        for sid in cohort.ids:
            if sid in found:
                self.failures.add_curves(sid, found[sid])
            self.failures.forget(sid)
        self.curves.update(found)

    def _reference(self, exercise: str) -> types.ModuleType:
        references = self.carried.references
        if exercise not in references:
            path = _reference_path(exercise)
            if not path.is_file():
                # Said plainly (plots then use the values shipped in its place, see plots.py).
                raise FileNotFoundError(f"{path}: no reference solution in this installation")
            spec = importlib.util.spec_from_file_location(f"_reference_{exercise}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            references[exercise] = module
        return references[exercise]

    # `student` and `rng` differ per submission: pytest only sees placeholders, and
    # pytest_pyfunc_call passes each submission's own. The fixtures read the running test from
    # self.item rather than asking for `request`, which costs a fixture definition per test.
    @pytest.fixture
    def student(self, cohort: int) -> object:
        return _PER_SUBMISSION

    @pytest.fixture
    def reference(self) -> types.ModuleType:
        return self._reference(grade_marks(self._running())["exercise"])

    @pytest.fixture
    def rng(self) -> object:
        return _PER_SUBMISSION

    def _running(self) -> pytest.Item:
        assert self.item is not None, "fixtures are set up inside pytest_runtest_setup"
        return self.item

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        self.item = item
        yield

    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        # A cohort ends with its last test: its plots and progress must not wait for the session
        # end, where pytest-json-report may already be writing.
        if nextitem is None or _cohort_of(nextitem) != _cohort_of(item):
            self._finish_current()

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        """Run the test body once per submission of the cohort, recording a verdict for each."""
        if "cohort" not in pyfuncitem.funcargs:
            return None
        cohort = self._cohort(_cohort_of(pyfuncitem))
        marks = grade_marks(pyfuncitem)
        names = pyfuncitem._fixtureinfo.argnames
        shared = {name: pyfuncitem.funcargs[name] for name in names}
        # Submissions given the very same verdict (a reused one) share one entry of the report.
        groups: dict[int, dict[str, Any]] = {}
        for sid in cohort.ids:
            found = self._run_for(pyfuncitem, shared, cohort, sid, marks)
            groups.setdefault(id(found), {"verdict": found, "submissions": []})["submissions"].append(sid)
            cohort.after_test(sid)
        pyfuncitem.stash[_VERDICTS] = list(groups.values())
        return True

    def _run_for(self, item: pytest.Function, shared: dict[str, object], cohort: Cohort, sid: str,
                 marks: dict[str, Any]) -> dict[str, Any]:
        """The test's verdict on one submission.

        A test's verdict depends only on the answers it reads: when this submission gave
        exactly the answers (fingerprinted, see proxy.Answers) of one already judged, and
        that run read nothing but fetched answers, its verdict is reused.
        """
        exercise = marks["exercise"]
        answers = cohort.answers(sid, exercise)
        memo_key = (test_id(item), answers.digest) if answers.digest is not None else None
        memo = self.carried.memo
        if memo_key is not None and memo_key in memo:
            self.failures.note(sid, self.carried.where.get(memo_key))
            return memo[memo_key]
        calls: list[CallResult] = []
        kwargs = dict(shared)
        watch = Watch(self.plotted.get(exercise, frozenset()),
                      functools.partial(self._reference, exercise))
        kwargs["student"] = watch.module(
            StudentModule(cohort.session(sid), exercise, calls.append, answers))
        where = None
        if "rng" in kwargs:
            kwargs["rng"] = self._rng(item)
        live, start = answers.live, time.perf_counter()
        try:
            item.obj(**kwargs)
            found = verdict.passed(calls, time.perf_counter() - start)
        except (Exception, pytest.fail.Exception) as exc:  # noqa: BLE001 - each one is a verdict
            found = verdict.failed(exc, marks.get("function"), calls, time.perf_counter() - start)
            where = where_failed.find(exc, watch, exercise, test_id(item),
                                      marks.get("visibility") == "visible")
            if marks.get("visibility") != "visible":
                # The values of a hidden test are its hidden inputs' answers: never recorded,
                # neither as a table nor as a plot of where it failed (Failures.note).
                found.pop("comparison", None)
                found.pop("comparison_note", None)
        if memo_key is not None and answers.live == live:
            self._remember(memo_key, found, where)
        self.failures.note(sid, where)
        return found

    def _remember(self, memo_key: tuple[str, bytes], found: dict[str, Any],
                  where: where_failed.Failure | None) -> None:
        """Keep a verdict (and where it found wrong values) for submissions answering alike."""
        memo = self.carried.memo
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
            self.carried.where.clear()
        # Reused as this very object (so the report can group it), with no time of its own.
        memo[memo_key] = {**found, "duration": 0.0}
        if where is not None:
            self.carried.where[memo_key] = where

    def _rng(self, item: pytest.Item) -> np.random.Generator:
        return np.random.default_rng([self.manifest.seed, zlib.crc32(test_id(item).encode())])

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> pytest.TestReport | None:
        """A failure's report with a one-line longrepr.

        pytest's own traceback formatting parses the test's source for every failure; only a
        fault of the grader itself fails a test item here (students' failures are verdicts).
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
            return _static_metadata(item, self.cohorts)
        if call.when != "call":
            return {}
        return {"verdicts": item.stash.get(_VERDICTS, [])}

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        try:
            self._finish_current()
        finally:
            if self.current is not None:
                self.current[1].close()

    def pytest_json_modifyreport(self, json_report: dict[str, Any]) -> None:
        json_report["grader"] = {
            "isolation": list(self.sandbox.isolation or ()),
            "curves": self.curves,
        }


_PER_SUBMISSION = object()
_VERDICTS = pytest.StashKey[list[dict[str, Any]]]()


def _reference_path(exercise: str) -> Path:
    return reference_dir() / f"{exercise}.py"


def _cohort_of(item: pytest.Item) -> int:
    callspec = getattr(item, "callspec", None)
    return int(callspec.params.get("cohort", -1)) if callspec is not None else -1


def _static_metadata(item: pytest.Item, cohorts: list[list[str]]) -> dict[str, Any]:
    marks = grade_marks(item)
    doc = (getattr(item, "obj", None).__doc__ or "").strip().splitlines()
    number = _cohort_of(item)
    return {
        "submissions": cohorts[number] if 0 <= number < len(cohorts) else [],
        "test_id": test_id(item),
        "exercise": marks.get("exercise"),
        "function": marks.get("function"),
        "points": float(marks.get("points", 1.0)),
        "visibility": marks.get("visibility", "hidden"),
        "pitfall": marks.get("pitfall"),
        "title": doc[0] if doc else item.name,
    }
