"""Reading results.json back into a GradeRun, every field checked (see grader.reports.results_json,
which writes it)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, cast

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

_OUTCOMES = ("passed", "failed", "error", "timeout")
_STATUSES = ("graded", "error")
_VISIBILITIES = ("visible", "hidden")
_KINDS = ("line", "bars")

CurveKind = Literal["line", "bars"]


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
        failed_test=_str(obj, "failed_test", where) if "failed_test" in obj else "",
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
