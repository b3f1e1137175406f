"""The wheel students install: built without reference/, it runs `grade check` on its own.

Built as README says (GRADER_STUDENT_BUILD=1), installed into a fresh virtual environment (its
dependencies from the package index or pip's cache, nothing of this environment), then used the
way a student uses it: `grade handout`, some work done, `grade check`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader import check, paths

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: relu redefined after the reference's own: the lesson's classic slip, np.max for np.maximum.
WRONG_RELU = "\n\ndef relu(z):\n    return np.max(z)\n"
#: A line of the instructor's output that names where its page went (the student's differs).
PAGE_LINE = "feedback page:"


def run(command: list[str | Path], *, cwd: Path | None = None,
        extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command in an environment of its own: nothing of this test run's Python settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS")}
    env.update({"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", **(extra or {})})
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the student wheel, the fresh virtual environment it is installed in)."""
    base = tmp_path_factory.mktemp("student-wheel")
    began = time.perf_counter()
    # Build isolation: pip fetches the build backend (and NumPy, for the plots' curves) itself.
    ok(run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", base / "dist", REPO],
           extra={"GRADER_STUDENT_BUILD": "1"}))
    built = time.perf_counter()
    wheel = next((base / "dist").glob("activations_grader-*.whl"))
    venv = base / "venv"
    ok(run([sys.executable, "-m", "venv", venv]))
    ok(run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel]))
    print(f"student wheel: built in {built - began:.1f} s, "
          f"venv and install in {time.perf_counter() - built:.1f} s")
    return wheel, venv


def test_the_wheel_holds_no_reference_only_values(student: tuple[Path, Path]) -> None:
    wheel, venv = student
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        curves = json.loads(archive.read("grader/_course/expected/curves.json"))
    assert not [n for n in names if "reference" in n.split("/")]
    assert "grader/_course/exercises/activations/test_activations_public.py" in names
    # The plots' reference curves: numbers only, no code.
    assert curves and all(isinstance(x, float) for pair in curves.values() for xs in pair
                          for x in xs)
    where = ok(run([venv / "bin" / "python", "-I", "-c",
                    "import grader.paths as p; print(p.course_root()); "
                    "print(p.reference_dir().exists())"])).stdout.split()
    installed = Path(where[0])
    assert installed.is_relative_to(venv) and where[1] == "False"
    assert not [p for p in installed.parent.rglob("*") if "reference" in p.parts[-1]]


def test_grade_check_from_the_student_install(student: tuple[Path, Path],
                                              tmp_path: Path) -> None:
    _, venv = student
    grade = venv / "bin" / "grade"
    handout = tmp_path / "handout"
    ok(run([grade, "handout", "--out", handout]))
    # The same handout as the instructor's install builds (whose build checks it for private
    # material against the reference, which the student's install does not have).
    ok(run([sys.executable, "-m", "grader", "handout", "--out", tmp_path / "instructor"]))
    assert _files(handout) == _files(tmp_path / "instructor")
    activations = _do_some_work(handout / "exercises")

    done = run([grade, "check"], cwd=handout)
    assert done.returncode == check.FAILED_EXIT, done.stdout + done.stderr
    before = _expect_lines(done.stdout)
    page = handout / "feedback" / "feedback.html"
    assert page.is_file() and "<svg" in page.read_text(encoding="utf-8")
    # Line for line what the instructor's install prints, plots included.
    same = run([sys.executable, "-m", "grader", "check", handout, "--out", tmp_path / "fb"])
    assert same.returncode == done.returncode
    assert _without_page(same.stdout) == _without_page(done.stdout)
    assert (tmp_path / "fb" / "feedback.html").read_text(encoding="utf-8").count("<svg") == \
        page.read_text(encoding="utf-8").count("<svg")

    (handout / "exercises" / "activations" / "activations.py").write_text(activations)
    fixed = run([grade, "check"], cwd=handout)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert re.search(r" PASS \s+relu\s", fixed.stdout) and " FAIL " not in fixed.stdout
    after = _points(fixed.stdout)
    assert before[0] < after[0] < after[1] == before[1]


def _do_some_work(exercises: Path) -> str:
    """activations.py done from the reference but for relu; return the correct file."""
    activations = (paths.reference_dir() / "activations.py").read_text(encoding="utf-8")
    (exercises / "activations" / "activations.py").write_text(activations + WRONG_RELU)
    # softmax_debug's stub is the unstable softmax the exercise asks to fix: it fails from the
    # start, so the fix goes in too (the other exercises stay stubs).
    (exercises / "softmax_debug" / "softmax_debug.py").write_text(
        (paths.reference_dir() / "softmax_debug.py").read_text(encoding="utf-8"))
    return activations


def _expect_lines(out: str) -> tuple[float, float]:
    """Assert the PASS, FAIL (message and hint) and TODO lines; return the points line's."""
    failure = out[out.index(" FAIL "):]
    assert re.match(r" FAIL \s+relu\s+\(0/1 checks\)", failure), out
    assert "relu(z)" in failure and "What went wrong:" in failure and "Hint:" in failure
    assert "np.maximum" in failure  # the np_max pitfall's hint
    assert len(re.findall(r" FAIL ", out)) == 1
    for name in ("sigmoid", "tanh", "softmax"):
        assert re.search(rf" PASS \s+{name}\s+\(\d+/\d+ checks\)", out), name
    for name in ("leaky_relu", "entropy", "collapse_linear", "boltzmann_policy"):
        assert re.search(rf" TODO \s+{name}\s", out), name
    score, total = _points(out)
    assert 0 < score < total
    return score, total


def _points(out: str) -> tuple[float, float]:
    found = re.search(r"^public checks: ([\d.]+) / ([\d.]+) points", out, re.M)
    assert found, out
    return float(found[1]), float(found[2])


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _without_page(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(PAGE_LINE)]
