"""Incremental regrades: unchanged submissions keep their results (read from the parts of the
last run), anything else is regraded."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from grader import incremental, pipeline
from grader.engine import GradeOptions
from grader.parts import PARTS_DIR
from grader.records import Submission

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "submissions"
FAST = ("--exercise", "activations", "--no-plots", "--no-timings")


def grade(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, timeout=600)


def reuse_key(options: GradeOptions) -> tuple[object, ...]:
    """What an earlier part must share with this run for its results to be reused."""
    return pipeline.header_for(["a"], options, None).key()


def test_keys_are_stable_and_sensitive() -> None:
    sub = Submission("a", {"activations": "x = 1\n"}, ("note",))
    assert incremental.content_key(sub) == incremental.content_key(replace(sub, origin="a.zip"))
    assert incremental.content_key(sub) != incremental.content_key(
        replace(sub, sources={"activations": "x = 2\n"}))
    assert incremental.content_key(sub) != incremental.content_key(replace(sub, problems=()))
    assert incremental.content_key(sub) != incremental.content_key(replace(sub, error="bad"))
    base = GradeOptions()
    key = reuse_key(base)
    assert key == reuse_key(replace(base, jobs=base.jobs + 1, hide=("/x",)))
    for changed in (replace(base, seed=1), replace(base, timeout=3.0),
                    replace(base, memory_bytes=1 << 29), replace(base, exercises=("scaling",)),
                    replace(base, plots=False)):
        assert reuse_key(changed) != key


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
    assert "reused" not in first.stdout and list((out / PARTS_DIR).glob("*.jsonl"))
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


def test_other_options_and_a_corrupt_part_regrade_all(subs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert grade(subs, "--out", out, *FAST).returncode == 0
    reseeded = grade(subs, "--out", out, *FAST, "--seed", "5")
    assert "reused 0 of 3 results (the suites, the grader or the grading options changed" \
        in reseeded.stdout and "graded alice" in reseeded.stderr
    [part] = (out / PARTS_DIR).glob("*.jsonl")  # the other seed's part is gone
    part.write_text("{ not json\n")
    broken = grade(subs, "--out", out, *FAST, "--seed", "5")
    assert broken.returncode == 0, broken.stderr
    assert f"note: ignored {part} (" in broken.stderr
    assert all(f"graded {n}" in broken.stderr for n in ("alice", "bob", "erin"))
    assert not part.exists()
    again = grade(subs, "--out", out, *FAST, "--seed", "5")
    assert "reused 3 of 3 results (unchanged)" in again.stdout
