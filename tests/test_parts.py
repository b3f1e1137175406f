"""Part files: written whole, indexed without parsing results, read back one result at a time."""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path

from grader.parts import PartHeader, PartIndex, PartResults, write_part
from grader.records import SubmissionResult, TestOutcome

HEADER = PartHeader(grader_version="1", seed=7, course="C", settings={"timeout": 2.0},
                    listing="L", count=3)


def result(sid: str, score: float, status: str = "graded") -> SubmissionResult:
    tests = (TestOutcome(id="t::a", exercise="ex", function="f", name="a", outcome="passed",
                         score=score, max_score=2.0, visibility="visible"),) if status == "graded" else ()
    return SubmissionResult(id=sid, status=status, score=score,  # type: ignore[arg-type]
                            max_score=2.0 if tests else 0.0, tests=tests,
                            error=None if tests else "no file")


def test_round_trip_newest_wins_and_errors_get_the_class_points(tmp_path: Path) -> None:
    old = replace(HEADER, written=1, maxima={"ex": 2.0}, isolation=("uid",))
    new = replace(HEADER, written=2, maxima={"ex": 2.0}, isolation=("uid", "pidns"))
    write_part(tmp_path, old, [(result("a", 1.0), "ha"), (result("b", 0.0), "hb")], "p1")
    write_part(tmp_path, new, [(result("b", 2.0), "hb2"), (result('c "quoted"', 0.0, "error"),
                                                          "hc")], "p2")
    index = PartIndex()
    index.add_folder(tmp_path, accept=HEADER)
    assert {k: v.content for k, v in index.lines.items()} == {
        "a": "ha", "b": "hb2", 'c "quoted"': "hc"}
    assert index.isolation() == ("uid", "pidns")
    results = PartResults(index, ["a", "b", 'c "quoted"'])
    assert [r.score for r in results] == [1.0, 2.0, 0.0]
    assert results[2].max_score == 2.0  # the class's points, which its own part did not show
    assert [r.id for r in results[1:]] == ["b", 'c "quoted"']
    assert results[0] == result("a", 1.0) and results[0] is not results[0]


def test_other_keys_and_broken_parts_are_left_out(tmp_path: Path) -> None:
    write_part(tmp_path, replace(HEADER, seed=8), [(result("a", 1.0), "ha")], "other-seed")
    write_part(tmp_path, HEADER, [(result("b", 1.0), "hb")], "good")
    (tmp_path / "junk.jsonl").write_text("{ not json\n")
    cut = tmp_path / "cut.jsonl"
    cut.write_text((tmp_path / "good.jsonl").read_text()[:-40])
    index = PartIndex()
    index.add_folder(tmp_path, accept=HEADER)
    assert sorted(index.lines) == ["b"]
    assert [n.split(" (")[0] for n in index.notes] == [f"ignored {cut}", f"ignored {tmp_path / 'junk.jsonl'}"]


def test_a_pass_holds_one_result_at_a_time(tmp_path: Path) -> None:
    write_part(tmp_path, HEADER, [(result(f"s{n:03d}", 1.0), "h") for n in range(200)], "p")
    index = PartIndex()
    index.add_folder(tmp_path)
    before = sum(isinstance(o, SubmissionResult) for o in gc.get_objects())
    most = 0
    for r in PartResults(index, sorted(index.lines)):
        most = max(most, sum(isinstance(o, SubmissionResult) for o in gc.get_objects()) - before)
        del r
    assert most <= 2


def test_a_part_is_read_as_results_json_would_read_it() -> None:
    import json
    import math

    import pytest

    from grader.parts import result_from_part
    from grader.records import Curve, Entry
    from grader.reports.results_json import _submission_from_dict, submission_json

    test = replace(result("a", 0.0).tests[0], outcome="failed", hints=("h",), pitfall="p",
                   comparison=(Entry("0", "1.0", "nan", True),), comparison_note="all shown",
                   duration=0.25)
    curves = (Curve("ex", "f", "line", (0.0, 1.0), (1.0, math.inf), (math.nan, 2.0), "n"),
              Curve("ex", "f", "bars", (0.0,), (1.0,), None, "z = [1]", failed_test="t::a"))
    full = replace(result("a", 0.0), tests=(test,), curves=curves, problems=("note",))
    data = json.loads(submission_json(full, True, {}))
    assert repr(result_from_part(data, "a")) == repr(_submission_from_dict(data, "x"))
    with pytest.raises(ValueError, match="outcome"):  # a bad part still says what is wrong
        del data["tests"][0]["outcome"]
        result_from_part(data, "a")
