"""Every host grades right or refuses: the `grade` console script run as an instructor would, in
each simulated host (tests/hostenv.py), on the sample class and on a thief that tries to run the
reference solutions it finds on disk."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from grader import paths
from tests.hostenv import ENVIRONMENTS, available, command

pytestmark = pytest.mark.slow
GRADE = str(Path(sys.executable).parent / "grade")
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "submissions"
#: What each simulated host is expected to give (isolation string, or exit 3).
EXPECTED = {
    "root": "uid+pidns+netns+mountns+view+scratch+proc+nocaps+rlimits",
    "nonroot": "userns+pidns+netns+mountns+view+scratch+proc+nocaps+rlimits",
    "fakeroot": "userns+pidns+netns+mountns+view+scratch+proc+nocaps+rlimits",
    "docker": "uid+chroot+nocaps+rlimits",
    "nouserns": "chroot+nocaps+rlimits",
    "nonroot-nouserns": None,
}
THIEF = """
    import os

    CANDIDATES = {candidates!r}

    def _steal():
        for path in CANDIDATES:
            try:
                with open(path) as f:
                    source = f.read()
            except OSError:
                continue
            found = {{}}
            exec(source, found)
            return found
        return None

    def __getattr__(name):  # every function of the exercise, if the reference can be read
        stolen = _steal()
        if stolen is None or name not in stolen:
            raise AttributeError(name)
        return stolen[name]
"""


@pytest.fixture(scope="module")
def shared() -> Iterator[Path]:
    """A folder every simulated user can read and write (nobody included), with a course
    checkout holding the reference, world-readable, outside any hidden folder."""
    folder = Path(tempfile.mkdtemp(prefix="hostenv-class-"))
    folder.chmod(0o777)
    checkout = folder / "course-repo" / "reference"
    checkout.mkdir(parents=True)
    shutil.copy(paths.reference_dir() / "activations.py", checkout / "activations.py")
    for path in (checkout.parent, checkout, checkout / "activations.py"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    thieves = folder / "thieves"
    (thieves / "thief").mkdir(parents=True)
    candidates = [str(checkout / "activations.py"), str(paths.reference_dir() / "activations.py")]
    (thieves / "thief" / "activations.py").write_text(
        textwrap.dedent(THIEF.format(candidates=candidates)))
    for path in (thieves, thieves / "thief"):
        path.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def grade(env: str, source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    reason = available(env)
    if reason:
        pytest.skip(reason)
    argv = [GRADE, str(source), "--out", str(out), "--no-timings", "-q", "--jobs", "2", *extra]
    return subprocess.run(command(env, argv), capture_output=True, text=True, timeout=300,
                          cwd=out.parent)


def scores(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def as_root(shared: Path) -> dict[str, dict[str, str]]:
    out = shared / "root-baseline"
    result = grade("root", SAMPLE, out)
    assert result.returncode == 0, result.stderr
    return scores(out)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_sample_class_gets_the_same_scores_or_a_loud_refusal(
        env: str, shared: Path, as_root: dict[str, dict[str, str]]) -> None:
    out = shared / f"sample-{env}"
    result = grade(env, SAMPLE, out)
    expected = EXPECTED[env]
    if expected is None:
        assert result.returncode == 3, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("grade: error: this host gives student "
                                                       "code isolation 'limits'")
        assert "sysctl" in lines[0] and "--isolation-minimum" in lines[0]
        assert not (out / "results.json").exists() and not (out / "grades.csv").exists()
        return
    assert result.returncode == 0, result.stderr
    assert scores(out) == as_root
    assert json.loads((out / "results.json").read_text())["isolation"] == expected


@pytest.mark.parametrize("env", [e for e in ENVIRONMENTS if EXPECTED[e] is not None])
def test_a_thief_finds_no_reference_to_run(env: str, shared: Path) -> None:
    out = shared / f"thief-{env}"
    result = grade(env, shared / "thieves", out, "--exercise", "activations", "--no-plots")
    assert result.returncode == 0, result.stderr
    row = scores(out)["thief"]
    assert float(row["score"]) == 0, row


@pytest.mark.parametrize("env", ["docker", "nouserns"])
def test_a_minimum_the_host_cannot_give_is_refused(env: str, shared: Path) -> None:
    out = shared / f"refused-{env}"
    result = grade(env, SAMPLE, out, "--isolation-minimum", "full")
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "isolation 'files'" in lines[0] and "required 'full'" in lines[0]
    assert not out.exists() or not any(out.iterdir())
