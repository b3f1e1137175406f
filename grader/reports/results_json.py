"""results.json: the complete, machine-readable record of a grading run (read back by
grader.reports.results_read, whose functions are named here too).

The layout is described by schemas/results.schema.json. Output is deterministic: key order is
fixed, submissions keep their (sorted) order, and with include_timings=False the same submissions
graded with the same seed give byte-identical files.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from grader.atomic import AtomicFile, safe_child, write_text_atomic
from grader.records import Curve, GradeRun, SubmissionResult, TestOutcome

# Reading back lives apart; its functions keep the names they have always been imported by.
from grader.reports.results_read import (
    CurveKind as CurveKind,
    _submission_from_dict as _submission_from_dict,
    dict_to_run as dict_to_run,
    read_results_json as read_results_json,
)

RESULTS_FILENAME = "results.json"


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
        # Only a curve of where a test failed has one: the course's plots stay as they were.
        **({"failed_test": curve.failed_test} if curve.failed_test else {}),
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
    memo: dict[tuple[object, ...], str] = {}
    rows = ",\n".join(submission_json(s, include_timings, memo) for s in run.submissions)
    return f"{_opening(run)}{rows}{_CLOSING}"


def _opening(run: GradeRun) -> str:
    """results.json up to its first submission."""
    head = {k: v for k, v in run_to_dict(replace(run, submissions=())).items() if k != "submissions"}
    return f'{json.dumps(head, ensure_ascii=False)[:-1]}, "submissions": [\n'


_CLOSING = "\n]}\n"


class ResultsWriter:
    """dumps_results's bytes written one submission at a time to a temporary file, which commit()
    puts in place of results.json; a `with` block left uncommitted leaves results.json as it was."""

    def __init__(self, out_dir: Path, run: GradeRun, *, include_timings: bool = True) -> None:
        opening, self._timings, self._separator = _opening(run), include_timings, ""
        self._memo: dict[tuple[object, ...], str] = {}
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        self._file = AtomicFile(safe_child(out_dir, RESULTS_FILENAME))
        self._file.write(opening)

    def add(self, result: SubmissionResult) -> None:
        """Write one more submission's row."""
        self._file.write(self._separator + submission_json(result, self._timings, self._memo))
        self._separator = ",\n"

    def commit(self) -> Path:
        """Finish the file and put it in place; its path."""
        self._file.write(_CLOSING)
        return self._file.commit()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.discard()


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
                array("d", curve.x).tobytes(), array("d", curve.reference).tobytes(), student,
                curve.failed_test)
    except (TypeError, ValueError, OverflowError):
        return None


def write_results_json(run: GradeRun, out_dir: Path, *, include_timings: bool = True) -> Path:
    """Write out_dir/results.json atomically and return its path."""
    with ResultsWriter(out_dir, run, include_timings=include_timings) as writer:
        for result in run.submissions:
            writer.add(result)
        return writer.commit()


def save_results_text(out_dir: Path, text: str) -> Path:
    """Write results.json text made by dumps_results into out_dir, atomically; its path."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = safe_child(out_dir, RESULTS_FILENAME)
    write_text_atomic(path, text)
    return path
