"""results.json: the complete, machine-readable record of a grading run, and reading it back.

The layout is described by schemas/results.schema.json. Output is deterministic: key order is
fixed, submissions keep their (sorted) order, and with include_timings=False the same submissions
graded with the same seed give byte-identical files.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Literal, cast

from grader.atomic import safe_child, write_text_atomic
from grader.records import (
    Curve,
    Entry,
    GradeRun,
    Outcome,
    Status,
    SubmissionResult,
    TestOutcome,
    Visibility,
)

RESULTS_FILENAME = "results.json"

_OUTCOMES = ("passed", "failed", "error", "timeout")
_STATUSES = ("graded", "error")
_VISIBILITIES = ("visible", "hidden")
_KINDS = ("line", "bars")

CurveKind = Literal["line", "bars"]


def _finite_or_none(value: float) -> float | None:
    """JSON has no nan/inf; students' functions produce them, so they become null."""
    number = float(value)
    return number if math.isfinite(number) else None


def _series(values: Sequence[float] | None) -> list[float | None] | None:
    """A curve's samples as JSON-safe numbers."""
    if values is None:
        return None
    return [_finite_or_none(v) for v in values]


def _curve_to_dict(curve: Curve) -> dict[str, object]:
    """One curve in results.json layout."""
    return {
        "exercise": curve.exercise,
        "function": curve.function,
        "kind": curve.kind,
        "x": _series(curve.x),
        "reference": _series(curve.reference),
        "student": _series(curve.student),
        "note": curve.note,
    }


def _test_to_dict(test: TestOutcome, include_timings: bool) -> dict[str, object]:
    """One test outcome in results.json layout."""
    return {
        "id": test.id,
        "exercise": test.exercise,
        "function": test.function,
        "name": test.name,
        "outcome": test.outcome,
        "score": float(test.score),
        "max_score": float(test.max_score),
        "visibility": test.visibility,
        "message": test.message,
        "hints": list(test.hints),
        "pitfall": test.pitfall,
        "misconception": test.misconception,
        "advisories": list(test.advisories),
        # Only visible tests that got wrong values have one: other records stay as they were.
        **({"comparison": [asdict(e) for e in test.comparison],
            "comparison_note": test.comparison_note} if test.comparison else {}),
        # Millisecond resolution: finer digits are noise and would churn diffs between reruns.
        "duration": round(float(test.duration), 3) if include_timings else 0.0,
    }


def _submission_to_dict(result: SubmissionResult, include_timings: bool) -> dict[str, object]:
    """One submission in results.json layout."""
    return {
        "id": result.id,
        "status": result.status,
        "error": result.error,
        "score": float(result.score),
        "max_score": float(result.max_score),
        "problems": list(result.problems),
        "tests": [_test_to_dict(t, include_timings) for t in result.tests],
        "curves": [_curve_to_dict(c) for c in result.curves],
    }


def run_to_dict(run: GradeRun, *, include_timings: bool = True) -> dict[str, object]:
    """The run as plain JSON data in results.json layout."""
    return {
        "grader_version": run.grader_version,
        "seed": run.seed,
        "isolation": run.isolation,
        "warnings": list(run.warnings),
        "submissions": [_submission_to_dict(s, include_timings) for s in run.submissions],
    }


def dumps_results(run: GradeRun, *, include_timings: bool = True) -> str:
    """results.json text for run."""
    # allow_nan=False: a non-finite score is a grader bug and must fail loudly, not write 'NaN'.
    # One submission per line: compact enough for json's C encoder (indent forces the slow
    # pure-Python one), readable and diff-friendly line by line, and converted one submission
    # at a time so a large class never exists twice in memory as dicts.
    head = {k: v for k, v in run_to_dict(replace(run, submissions=())).items() if k != "submissions"}
    memo: dict[tuple[object, ...], str] = {}
    rows = ",\n".join(submission_json(s, include_timings, memo) for s in run.submissions)
    return f'{json.dumps(head, ensure_ascii=False)[:-1]}, "submissions": [\n{rows}\n]}}\n'


_MEMO_SIZE = 4096
"""Most distinct tests and curves whose JSON one dumps_results keeps for reuse."""


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=False)


def submission_json(result: SubmissionResult, include_timings: bool,
                     memo: dict[tuple[object, ...], str]) -> str:
    """json.dumps(_submission_to_dict(result, include_timings)), byte for byte, built from the
    JSON of its tests and curves: most of those are the same for many students of a class."""
    head = _dumps({"id": result.id, "status": result.status, "error": result.error,
                   "score": float(result.score), "max_score": float(result.max_score),
                   "problems": list(result.problems)})
    tests = ", ".join(_tests_json(result.tests, include_timings, memo))
    curves = ", ".join(_curve_json(c, memo) for c in result.curves)
    return f'{head[:-1]}, "tests": [{tests}], "curves": [{curves}]}}'


def _tests_json(tests: Sequence[TestOutcome], include_timings: bool,
                memo: dict[tuple[object, ...], str]) -> list[str]:
    """The JSON of each test: everything but its duration is shared by many students."""
    texts = []
    for test in tests:
        # Millisecond resolution: finer digits are noise and would churn diffs between reruns.
        duration = round(float(test.duration), 3) if include_timings else 0.0
        if not math.isfinite(duration):
            _dumps(duration)  # raises, as json.dumps of the whole record would
        # Every field but the duration. A zero score goes in as its repr: 0.0 and -0.0 are
        # equal but not the same JSON.
        key = (test.id, test.exercise, test.function, test.name, test.outcome,
               test.score or repr(test.score), test.max_score or repr(test.max_score),
               test.visibility, test.message, test.hints, test.pitfall, test.misconception,
               test.advisories, test.comparison, test.comparison_note)
        try:
            body = memo.get(key)
        except TypeError:  # an unhashable field: no sharing
            body = _dumps(_test_body(test))
        if body is None:
            body = memo[key] = _dumps(_test_body(test))
            if len(memo) > _MEMO_SIZE:
                memo.clear()
        texts.append(f'{body[:-1]}, "duration": {float.__repr__(duration)}}}')
    return texts


def _test_body(test: TestOutcome) -> dict[str, object]:
    data = _test_to_dict(test, False)
    del data["duration"]
    return data


def _curve_json(curve: Curve, memo: dict[tuple[object, ...], str]) -> str:
    key = _curve_key(curve)
    text = memo.get(key) if key is not None else None
    if text is None:
        text = _dumps(_curve_to_dict(curve))
        if key is not None:
            memo[key] = text
            if len(memo) > _MEMO_SIZE:
                memo.clear()
    return text


def _curve_key(curve: Curve) -> tuple[object, ...] | None:
    """Every field, the samples as their exact bits."""
    try:
        student = None if curve.student is None else array("d", curve.student).tobytes()
        return ("curve", curve.exercise, curve.function, curve.kind, curve.note,
                array("d", curve.x).tobytes(), array("d", curve.reference).tobytes(), student)
    except (TypeError, ValueError, OverflowError):
        return None


def write_results_json(run: GradeRun, out_dir: Path, *, include_timings: bool = True) -> Path:
    """Write out_dir/results.json atomically and return its path."""
    return save_results_text(out_dir, dumps_results(run, include_timings=include_timings))


def save_results_text(out_dir: Path, text: str) -> Path:
    """Write results.json text made by dumps_results into out_dir, atomically; its path."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = safe_child(out_dir, RESULTS_FILENAME)
    write_text_atomic(path, text)
    return path


# -- reading back -------------------------------------------------------------------------------


def _field(obj: Mapping[str, object], key: str, where: str) -> object:
    """obj[key], or a ValueError naming where the key was expected."""
    if key not in obj:
        raise ValueError(f"results.json: {where} has no {key!r}")
    return obj[key]


def _str(obj: Mapping[str, object], key: str, where: str) -> str:
    """A required string field."""
    value = _field(obj, key, where)
    if not isinstance(value, str):
        raise ValueError(f"results.json: {where}.{key} should be a string")
    return value


def _opt_str(obj: Mapping[str, object], key: str, where: str) -> str | None:
    """A required string-or-null field."""
    value = _field(obj, key, where)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"results.json: {where}.{key} should be a string or null")
    return value


def _num(obj: Mapping[str, object], key: str, where: str) -> float:
    """A required number field (bool is rejected although Python treats it as an int)."""
    value = _field(obj, key, where)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"results.json: {where}.{key} should be a number")
    return float(value)


def _choice(obj: Mapping[str, object], key: str, where: str, allowed: tuple[str, ...]) -> str:
    """A required string field limited to allowed values (what makes the Literal casts safe)."""
    value = _str(obj, key, where)
    if value not in allowed:
        raise ValueError(f"results.json: {where}.{key} is {value!r}, expected one of {allowed}")
    return value


def _strs(obj: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    """A required list-of-strings field."""
    value = _field(obj, key, where)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"results.json: {where}.{key} should be a list of strings")
    return tuple(cast(list[str], value))


def _objects(obj: Mapping[str, object], key: str, where: str) -> list[Mapping[str, object]]:
    """A required list-of-objects field."""
    value = _field(obj, key, where)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"results.json: {where}.{key} should be a list of objects")
    return cast(list[Mapping[str, object]], value)


def _floats(obj: Mapping[str, object], key: str, where: str) -> tuple[float, ...] | None:
    """A curve series: null stays None, null samples come back as nan."""
    value = _field(obj, key, where)
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError(f"results.json: {where}.{key} should be a list of numbers")
    out: list[float] = []
    for item in value:
        if item is None:
            out.append(math.nan)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            out.append(float(item))
        else:
            raise ValueError(f"results.json: {where}.{key} holds a non-number {item!r}")
    return tuple(out)


def _curve_from_dict(obj: Mapping[str, object], where: str) -> Curve:
    """Rebuild a Curve."""
    x = _floats(obj, "x", where)
    reference = _floats(obj, "reference", where)
    if x is None or reference is None:
        raise ValueError(f"results.json: {where} needs x and reference samples")
    kind = _choice(obj, "kind", where, _KINDS)
    return Curve(
        exercise=_str(obj, "exercise", where),
        function=_str(obj, "function", where),
        kind=cast(CurveKind, kind),
        x=x,
        reference=reference,
        student=_floats(obj, "student", where),
        note=_str(obj, "note", where),
    )


def _test_from_dict(obj: Mapping[str, object], where: str) -> TestOutcome:
    """Rebuild a TestOutcome."""
    outcome = _choice(obj, "outcome", where, _OUTCOMES)
    visibility = _choice(obj, "visibility", where, _VISIBILITIES)
    return TestOutcome(
        id=_str(obj, "id", where),
        exercise=_str(obj, "exercise", where),
        function=_opt_str(obj, "function", where),
        name=_str(obj, "name", where),
        outcome=cast(Outcome, outcome),
        score=_num(obj, "score", where),
        max_score=_num(obj, "max_score", where),
        visibility=cast(Visibility, visibility),
        message=_str(obj, "message", where),
        hints=_strs(obj, "hints", where),
        pitfall=_opt_str(obj, "pitfall", where),
        misconception=_str(obj, "misconception", where),
        advisories=_strs(obj, "advisories", where),
        duration=_num(obj, "duration", where),
        comparison=_entries(obj.get("comparison"), where),
        comparison_note=str(obj.get("comparison_note") or ""),
    )


def _entries(raw: object, where: str) -> tuple[Entry, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise ValueError(f"results.json: {where}.comparison should be a list of objects")
    return tuple(Entry(index=_str(e, "index", where), expected=_str(e, "expected", where),
                       got=_str(e, "got", where), differs=bool(e.get("differs")))
                 for e in raw)


def _submission_from_dict(obj: Mapping[str, object], where: str) -> SubmissionResult:
    """Rebuild a SubmissionResult."""
    status = _choice(obj, "status", where, _STATUSES)
    tests = _objects(obj, "tests", where)
    curves = _objects(obj, "curves", where)
    return SubmissionResult(
        id=_str(obj, "id", where),
        status=cast(Status, status),
        score=_num(obj, "score", where),
        max_score=_num(obj, "max_score", where),
        tests=tuple(_test_from_dict(t, f"{where}.tests[{i}]") for i, t in enumerate(tests)),
        error=_opt_str(obj, "error", where),
        problems=_strs(obj, "problems", where),
        curves=tuple(_curve_from_dict(c, f"{where}.curves[{i}]") for i, c in enumerate(curves)),
    )


def dict_to_run(data: object) -> GradeRun:
    """Rebuild a GradeRun from parsed results.json data; ValueError names the first bad field."""
    if not isinstance(data, dict):
        raise ValueError("results.json: the top level should be an object")
    top = cast(Mapping[str, object], data)
    seed = _field(top, "seed", "top level")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError("results.json: top level.seed should be an integer")
    subs = _objects(top, "submissions", "top level")
    return GradeRun(
        grader_version=_str(top, "grader_version", "top level"),
        seed=seed,
        isolation=_str(top, "isolation", "top level"),
        submissions=tuple(
            _submission_from_dict(s, f"submissions[{i}]") for i, s in enumerate(subs)
        ),
        warnings=_strs(top, "warnings", "top level"),
    )


def read_results_json(path: Path) -> GradeRun:
    """Load a results.json written by write_results_json."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return dict_to_run(data)
