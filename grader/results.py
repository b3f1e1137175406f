"""Builds SubmissionResult records from the judges' pytest-json-report files.

Results come only from that JSON: the metadata the judge plugin attached to each test (exercise,
function, points, message, pitfall) and the plot data it added at session end.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader import __version__
from grader import pitfalls
from grader.judge import style
from grader.records import Curve, Entry, GradeRun, Submission, SubmissionResult, TestOutcome
from grader.sandbox.host import level


@dataclass(frozen=True)
class ShardReport:
    """What one judge process left behind."""

    submissions: tuple[str, ...]
    """Ids the shard was asked to run."""
    report: Path
    """Its pytest-json-report file (missing if the judge died)."""
    exit_code: int
    """pytest's exit code: 0 or 1 is a normal run."""
    output: str
    """The tail of the judge's own output, for diagnosing a failed shard."""


@dataclass(frozen=True)
class ShardResults:
    """What one shard's report says, read as soon as its judge finished."""

    tests: dict[str, list[TestOutcome]]
    """Submission id -> its test outcomes."""
    curves: dict[str, tuple[Curve, ...]]
    """Submission id -> its plot data."""
    failed: dict[str, str]
    """Submission id -> why the shard gave no results for it."""
    isolation: list[str]
    """Isolation steps the shard's sandbox reported."""


def read_shard(shard: ShardReport) -> ShardResults:
    """Typed outcomes from one judge's report (every submission failed if it left none)."""
    tests: dict[str, list[TestOutcome]] = defaultdict(list)
    data = _load(shard)
    if data is None:
        why = ("the grader could not finish the batch this submission was in "
               f"(judge exit code {shard.exit_code}); please report this")
        return ShardResults({}, {}, {sid: why for sid in shard.submissions}, [])
    for raw in data.get("tests", []):
        meta = raw.get("metadata") or {}
        # Verdicts come grouped: the submissions that got the very same one share one (frozen)
        # record, faster to make and smaller to hold.
        given: dict[str, TestOutcome] = {}
        for group in meta.get("verdicts") or []:
            found = _outcome(raw, meta, group.get("verdict"))
            given.update((str(sid), found) for sid in group.get("submissions", []))
        for sid in meta.get("submissions") or []:
            sid = str(sid)
            tests[sid].append(given[sid] if sid in given else _outcome(raw, meta, None))
    extra = data.get("grader", {})
    # Every student's plot has the same x and reference values (and a correct one the same
    # values again): one shared tuple each keeps a class of hundreds small in memory.
    # Keyed by the values as read and as converted: most curves need no conversion at all.
    shared: dict[tuple[object, ...], tuple[float, ...]] = {}
    curves = {sid: tuple(_curve(c, shared) for c in raw_curves)
              for sid, raw_curves in extra.get("curves", {}).items()}
    return ShardResults(dict(tests), curves, {}, list(extra.get("isolation", [])))


def build_run(submissions: list[Submission], shards: list[ShardResults], seed: int) -> GradeRun:
    """Merge every shard into one GradeRun, sorted by submission id."""
    tests: dict[str, list[TestOutcome]] = {}
    curves: dict[str, tuple[Curve, ...]] = {}
    failed: dict[str, str] = {}
    isolation: list[str] = []
    for shard in shards:
        tests.update(shard.tests)
        curves.update(shard.curves)
        failed.update(shard.failed)
        isolation = isolation or shard.isolation
    maxima = _max_scores(tests)
    results = [_result(sub, tests.get(sub.id, []), curves.get(sub.id, ()), failed.get(sub.id), maxima)
               for sub in sorted(submissions, key=lambda s: s.id)]
    return GradeRun(grader_version=__version__, seed=seed,
                    isolation="+".join(isolation) or "none", submissions=tuple(results),
                    warnings=isolation_warnings(isolation))


def _load(shard: ShardReport) -> dict[str, Any] | None:
    if shard.exit_code not in (0, 1, 5) or not shard.report.is_file():
        return None
    try:
        data = json.loads(shard.report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _outcome(raw: dict[str, Any], meta: dict[str, Any],
             found_verdict: dict[str, Any] | None) -> TestOutcome:
    """One submission's outcome of one test; no verdict means the test could not run at all."""
    verdict = found_verdict or {"kind": "error", "message": _crash_text(raw)}
    points = float(meta.get("points", 1.0))
    kind = str(verdict.get("kind", "error"))
    passed = kind == "passed"
    outcome = {"passed": "passed", "failed": "failed", "timeout": "timeout"}.get(kind, "error")
    message = "" if passed else str(verdict.get("message") or _crash_text(raw))
    pitfall = verdict.get("detected_pitfall") or _unchecked_marker(meta, verdict)
    found = pitfalls.lookup(pitfall) if pitfall else None
    return TestOutcome(
        id=str(meta.get("test_id", raw.get("nodeid", ""))),
        exercise=str(meta.get("exercise", "")), function=meta.get("function"),
        name=str(meta.get("title", "")), outcome=outcome,  # type: ignore[arg-type]
        score=points if passed else 0.0, max_score=points,
        visibility="visible" if meta.get("visibility") == "visible" else "hidden",
        message=message, hints=_hints(found, verdict, passed, meta.get("visibility") == "visible"),
        pitfall=str(pitfall) if pitfall else None,
        misconception=found.misconception if found else "",
        advisories=_advisories(meta, verdict, passed),
        duration=round(float(verdict.get("duration", 0.0)), 3),
        comparison=_entries(verdict.get("comparison")),
        comparison_note=str(verdict.get("comparison_note") or ""),
    )


def _unchecked_marker(meta: dict[str, Any], verdict: dict[str, Any]) -> str | None:
    """The pitfall the test was written for, only for a wrong answer of the expected shape and
    only when the course has no way to check that pitfall.

    Where the course can recognise a pitfall (a detector, an error pattern), only a recognition
    in this very failure names it: a test's pitfall is no evidence that this student made that
    mistake. A course that states a misconception only through its tests' markers keeps it.
    """
    marker = meta.get("pitfall")
    if not marker or not verdict.get("compared") or marker in pitfalls.checked():
        return None
    return str(marker)


def _hints(found: pitfalls.Pitfall | None, verdict: dict[str, Any], passed: bool,
           visible: bool) -> tuple[str, ...]:
    """What was observed of the wrong answer when the judge says it (only when no detector
    named the mistake; for a hidden test without the values of its inputs and answers), then
    the pitfall's hint."""
    observation = verdict.get("observation")
    if not visible:
        observation = verdict.get("observation_plain", observation)
    observed = (str(observation),) if observation and not passed else ()
    return observed + ((found.hint,) if found is not None else ())


def _entries(raw: object) -> tuple[Entry, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(Entry(index=str(e.get("index", "")), expected=str(e.get("expected", "")),
                       got=str(e.get("got", "")), differs=bool(e.get("differs")))
                 for e in raw if isinstance(e, dict))


def _crash_text(raw: dict[str, Any]) -> str:
    for phase in ("setup", "call", "teardown"):
        crash = raw.get(phase, {}).get("crash")
        if crash:
            return f"the grader could not run this test: {str(crash.get('message', ''))[:300]}"
    return "the grader could not run this test"


def _advisories(meta: dict[str, Any], verdict: dict[str, Any], passed: bool) -> tuple[str, ...]:
    # A failed test already explains itself; warnings only teach when the answer was right.
    if not passed:
        return ()
    function = meta.get("function") or "your code"
    return tuple(f"{function}() gave the right answer but raised a warning: {w}. Numerically "
                 "careful code avoids it (see the lesson's stable forms)."
                 for w in verdict.get("advisories", []))


def _curve(raw: dict[str, Any], shared: dict[tuple[object, ...], tuple[float, ...]]) -> Curve:
    student = raw.get("student")

    def values(items: list[object]) -> tuple[float, ...]:
        raw_key = tuple(items)
        found = shared.get(raw_key)
        if found is None:
            found = tuple(_num(v) for v in items)
            found = shared.setdefault(found, found)
            shared[raw_key] = found
        return found

    return Curve(exercise=str(raw["exercise"]), function=str(raw["function"]), kind=raw["kind"],
                 x=values(raw["x"]), reference=values(raw["reference"]),
                 student=None if student is None else values(student),
                 note=str(raw.get("note", "")), failed_test=str(raw.get("failed_test", "")))


def _num(value: object) -> float:
    number = float(value) if isinstance(value, (int, float)) else float("nan")
    return number if math.isfinite(number) else float("nan")


def _max_scores(tests: dict[str, list[TestOutcome]]) -> dict[str, float]:
    """Points available per exercise, read from whichever submission ran them."""
    maxima: dict[str, float] = {}
    for outcomes in tests.values():
        per: dict[str, float] = defaultdict(float)
        for t in outcomes:
            per[t.exercise] += t.max_score
        for exercise, total in per.items():
            maxima[exercise] = max(maxima.get(exercise, 0.0), total)
    return maxima


def _result(sub: Submission, outcomes: list[TestOutcome], curves: tuple[Curve, ...],
            failure: str | None, maxima: dict[str, float]) -> SubmissionResult:
    error = sub.error or failure
    if error is not None:
        return SubmissionResult(id=sub.id, status="error", score=0.0,
                                max_score=sum(maxima.values()), tests=(), error=error,
                                problems=sub.problems)
    outcomes = _with_loop_advisories(outcomes, style.loop_advisories(sub.sources))
    return SubmissionResult(
        id=sub.id, status="graded", score=round(sum(t.score for t in outcomes), 6),
        max_score=round(sum(t.max_score for t in outcomes), 6), tests=tuple(outcomes),
        problems=sub.problems, curves=curves)


def _with_loop_advisories(outcomes: list[TestOutcome],
                          loops: dict[tuple[str, str], str]) -> list[TestOutcome]:
    """Attach each loop advisory to the passed tests of its function (failed ones explain more)."""
    if not loops:
        return outcomes
    return [replace(t, advisories=(*t.advisories, loops[(t.exercise, t.function or "")]))
            if t.outcome == "passed" and (t.exercise, t.function or "") in loops else t
            for t in outcomes]


def isolation_warnings(steps: list[str]) -> tuple[str, ...]:
    """A warning only where it is true: student code got less than the full level."""
    found = level(steps)
    if not steps or found == "full":
        return ()
    return (f"student code ran with isolation '{found}' ({'+'.join(steps)}), not 'full' "
            "(see README's Security model and Where to run it)",)


def shard_results(submissions: list[Submission],
                  shard: ShardResults) -> tuple[list[SubmissionResult], dict[str, float]]:
    """The results of one shard's submissions, sorted by id, and the points available per
    exercise they show; a submission that could not be graded gets the points its shard shows
    (the class's total is filled in when results are read back, see grader.parts)."""
    maxima = _max_scores(shard.tests)
    found = [_result(sub, shard.tests.get(sub.id, []), shard.curves.get(sub.id, ()),
                     shard.failed.get(sub.id), maxima)
             for sub in sorted(submissions, key=lambda s: s.id)]
    return found, maxima
