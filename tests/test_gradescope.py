"""Gradescope: `grade gradescope` in a simulated /autograder layout, and the upload zip."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "schemas" / "gradescope_results.schema.json").read_text())
# bob's activations.py uses np.max for relu and the unshifted softmax: hidden tests fail with
# messages that name their inputs.
STUDENT = REPO / "examples" / "submissions" / "bob" / "activations.py"


def grade(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def autograder(tmp: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """A fake /autograder: submission/ holding files, and where results.json goes."""
    submission = tmp / "autograder" / "submission"
    for name, text in files.items():
        (submission / name).parent.mkdir(parents=True, exist_ok=True)
        (submission / name).write_text(text)
    submission.mkdir(parents=True, exist_ok=True)
    return submission, tmp / "autograder" / "results" / "results.json"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], dict[str, object]]:
    """The Gradescope results and the instructor's results.json for the same submission."""
    tmp = tmp_path_factory.mktemp("gs")
    submission, results = autograder(tmp, {"activations.py": STUDENT.read_text()})
    done = grade("gradescope", "--submission", submission, "--results", results,
                 "--exercise", "activations")
    assert done.returncode == 0, done.stderr
    full = grade("run", submission, "--out", tmp / "out", "--exercise", "activations",
                 "--no-plots", "-q")
    assert full.returncode == 0, full.stderr
    return (json.loads(results.read_text()),
            json.loads((tmp / "out" / "results.json").read_text()))


def test_results_follow_gradescope_schema(
        graded: tuple[dict[str, object], dict[str, object]]) -> None:
    gradescope, instructor = graded
    jsonschema.validate(gradescope, SCHEMA)
    student = instructor["submissions"][0]  # type: ignore[index]
    assert gradescope["score"] == student["score"]
    assert isinstance(gradescope["execution_time"], float) and gradescope["execution_time"] > 0
    tests = gradescope["tests"]
    assert isinstance(tests, list) and len(tests) == len(student["tests"])


def test_hidden_failure_messages_do_not_leak(
        graded: tuple[dict[str, object], dict[str, object]]) -> None:
    gradescope, instructor = graded
    text = json.dumps(gradescope)
    tests = instructor["submissions"][0]["tests"]  # type: ignore[index]
    hidden = [t for t in tests if t["visibility"] == "hidden" and t["outcome"] != "passed"]
    visible = [t for t in tests if t["visibility"] == "visible" and t["outcome"] != "passed"]
    assert hidden and visible
    for test in hidden:
        for line in test["message"].splitlines():
            # Lines shared with a visible failure's message (e.g. 'expected: ...') are public.
            if len(line.strip()) > 15 and not any(line in v["message"] for v in visible):
                assert json.dumps(line)[1:-1] not in text, line
    for test in visible:
        assert json.dumps(test["message"])[1:-1] in text


def test_an_empty_submission_still_gets_results(tmp_path: Path) -> None:
    submission, results = autograder(tmp_path, {"notes.txt": "hello"})
    done = grade("gradescope", "--submission", submission, "--results", results)
    assert done.returncode == 0, done.stderr
    data = json.loads(results.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 0 and "could not be graded" in data["output"]


def test_nested_upload_and_reveal_setting(tmp_path: Path) -> None:
    files = {"exercises/activations/activations.py": STUDENT.read_text(), "README.md": "mine"}
    submission, results = autograder(tmp_path, files)
    done = grade("gradescope", "--submission", submission, "--results", results,
                 "--exercise", "activations", "--reveal", "hidden")
    assert done.returncode == 0, done.stderr
    data = json.loads(results.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] > 0
    levels = {t["visibility"] for t in data["tests"]}
    assert levels == {"visible", "hidden"}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("pkg") / "autograder.zip"
    done = grade("gradescope-package", "--out", out)
    assert done.returncode == 0, done.stderr
    return zipfile.ZipFile(out)


def test_package_holds_scripts_and_project(package: zipfile.ZipFile) -> None:
    names = set(package.namelist())
    for required in ("setup.sh", "run_autograder", "pyproject.toml", "README.md",
                     "grader/__init__.py", "grader/cli.py", "grader/judge/judge.ini",
                     "exercises/activations/activations.py",
                     "reference/activations.py", "reference/suites/test_activations.py",
                     "templates/feedback.html.j2", "schemas/gradescope_results.schema.json"):
        assert required in names, required
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in n]
    assert not [n for n in names if n.startswith(("tests/", "examples/", ".git"))]


def test_package_scripts_are_executable(package: zipfile.ZipFile, tmp_path: Path) -> None:
    for info in package.infolist():
        mode = info.external_attr >> 16
        executable = info.filename in ("setup.sh", "run_autograder")
        assert bool(mode & stat.S_IXUSR) == executable, info.filename
    run = package.read("run_autograder").decode()
    assert run.startswith("#!/usr/bin/env bash\n")
    assert "cd /autograder/source && grade gradescope" in run
    setup = package.read("setup.sh").decode()
    assert setup.startswith("#!/usr/bin/env bash\n") and "pip3 install /autograder/source" in setup
    if shutil.which("bash"):
        for name in ("setup.sh", "run_autograder"):
            (tmp_path / name).write_text(package.read(name).decode())
            assert subprocess.run(["bash", "-n", str(tmp_path / name)]).returncode == 0


def test_package_needs_a_zip_name(tmp_path: Path) -> None:
    done = grade("gradescope-package", "--out", tmp_path / "autograder.tar")
    assert done.returncode == 2 and ".zip" in done.stderr


def test_a_grader_crash_still_writes_results(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from grader import gradescope_mode
    from grader.engine import GradeOptions

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("judge exploded")

    monkeypatch.setattr(gradescope_mode, "grade_submissions", broken)
    submission, results = autograder(tmp_path, {"activations.py": STUDENT.read_text()})
    with pytest.raises(RuntimeError):
        gradescope_mode.run_gradescope(submission, results, GradeOptions())
    data = json.loads(results.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 0 and "tell your instructor" in data["output"]
    assert "exploded" not in data["output"]
