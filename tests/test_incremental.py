"""Incremental regrades: unchanged submissions keep their results, anything else is regraded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from grader import incremental
from grader.engine import GradeOptions
from grader.records import GradeRun, Submission, SubmissionResult

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "submissions"
FAST = ("--exercise", "activations", "--no-plots", "--no-timings")


def grade(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, timeout=600)


def _result(sid: str, score: float = 1.0, status: str = "graded") -> SubmissionResult:
    return SubmissionResult(id=sid, status=status, score=score,  # type: ignore[arg-type]
                            max_score=2.0, tests=())


def _run(*results: SubmissionResult, isolation: str = "rlimits") -> GradeRun:
    return GradeRun(grader_version="1", seed=7, isolation=isolation, submissions=results)


def test_keys_are_stable_and_sensitive() -> None:
    sub = Submission("a", {"activations": "x = 1\n"}, ("note",))
    assert incremental.content_key(sub) == incremental.content_key(replace(sub, origin="a.zip"))
    assert incremental.content_key(sub) != incremental.content_key(
        replace(sub, sources={"activations": "x = 2\n"}))
    assert incremental.content_key(sub) != incremental.content_key(replace(sub, problems=()))
    assert incremental.content_key(sub) != incremental.content_key(replace(sub, error="bad"))
    base = GradeOptions()
    key = incremental.run_key(base)
    assert key == incremental.run_key(replace(base, jobs=base.jobs + 1, hide=("/x",)))
    for changed in (replace(base, seed=1), replace(base, timeout=3.0),
                    replace(base, memory_bytes=1 << 29), replace(base, exercises=("scaling",)),
                    replace(base, plots=False)):
        assert incremental.run_key(changed) != key


def test_split_reuses_only_matching_entries() -> None:
    old = _run(_result("a"), _result("b"), _result("c"))
    subs = [Submission(s, {"activations": s}) for s in ("a", "b", "c", "d")]
    cache = incremental.build_cache(old, subs[:3], "K")
    changed = [subs[0], replace(subs[1], sources={"activations": "new"}), subs[2], subs[3]]
    # c's stored result no longer matches what the cache recorded (an edited results.json).
    edited = _run(_result("a"), _result("b"), _result("c", score=2.0))
    plan = incremental.split(changed, incremental.Previous(cache, edited), "K")
    assert [r.id for r in plan.reuse] == ["a"]
    assert [s.id for s in plan.regrade] == ["b", "c", "d"]
    other_key = incremental.split(subs, incremental.Previous(cache, old), "OTHER")
    assert not other_key.reuse and other_key.key_changed


def test_merge_sorts_and_keeps_the_sandbox_that_ran() -> None:
    plan = incremental.Split(reuse=(_result("b"),), regrade=())
    fresh = _run(_result("a"), _result("c", status="error"), isolation="uid+rlimits")
    merged = incremental.merge(plan, fresh, _run(_result("b")))
    assert [r.id for r in merged.submissions] == ["a", "b", "c"]
    assert merged.isolation == "uid+rlimits"
    only_errors = _run(replace(_result("c", status="error"), max_score=0.0), isolation="none")
    merged = incremental.merge(plan, only_errors, _run(_result("b")))
    assert merged.isolation == "rlimits"
    assert merged.submissions[1].max_score == 2.0  # as a full run would give it


def test_cache_round_trip_and_junk() -> None:
    cache = incremental.Cache(run_key="K", entries={"a": ("c1", "r1")})
    assert incremental.cache_from_json(incremental.cache_to_json(cache)) == cache
    for junk in ("garbage", "[]", '{"format": 99}', '{"format": 1, "run_key": "K"}',
                 '{"format": 1, "run_key": "K", "submissions": {"a": {"content": 1}}}'):
        with pytest.raises(ValueError):
            incremental.cache_from_json(junk)


@pytest.fixture
def subs(tmp_path: Path) -> Path:
    folder = tmp_path / "subs"
    for name in ("alice", "bob", "erin"):
        shutil.copytree(SAMPLE / name, folder / name)
    return folder


def test_regrades_only_what_changed(subs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = grade(subs, "--out", out, *FAST)
    assert first.returncode == 0, first.stderr
    assert "reused" not in first.stdout and (out / incremental.CACHE_FILENAME).is_file()
    original = (out / "results.json").read_bytes()

    second = grade(subs, "--out", out, *FAST)
    assert second.returncode == 0 and "reused 3 of 3 results (unchanged)" in second.stdout
    assert "graded alice" not in second.stderr
    assert (out / "results.json").read_bytes() == original

    with (subs / "bob" / "activations.py").open("a") as handle:
        handle.write("\n# a comment changes the content\n")
    third = grade(subs, "--out", out, *FAST)
    assert "reused 2 of 3 results (unchanged)" in third.stdout
    assert "graded bob" in third.stderr and "graded alice" not in third.stderr
    partial = (out / "results.json").read_bytes()

    forced = grade(subs, "--out", out, *FAST, "--force")
    assert "--force: regraded all 3" in forced.stdout
    assert all(f"graded {n}" in forced.stderr for n in ("alice", "bob", "erin"))
    assert (out / "results.json").read_bytes() == partial  # reuse changes nothing in the results


def test_other_options_and_a_corrupt_cache_regrade_all(subs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert grade(subs, "--out", out, *FAST).returncode == 0
    reseeded = grade(subs, "--out", out, *FAST, "--seed", "5")
    assert "reused 0 of 3" in reseeded.stdout and "graded alice" in reseeded.stderr
    (out / incremental.CACHE_FILENAME).write_text("{ not json")
    broken = grade(subs, "--out", out, *FAST, "--seed", "5")
    assert broken.returncode == 0, broken.stderr
    assert "note: ignored" in broken.stderr and "not valid JSON" in broken.stderr
    assert all(f"graded {n}" in broken.stderr for n in ("alice", "bob", "erin"))
    cache = json.loads((out / incremental.CACHE_FILENAME).read_text())
    assert sorted(cache["submissions"]) == ["alice", "bob", "erin"]
