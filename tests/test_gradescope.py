"""Gradescope: `grade gradescope` in a simulated /autograder layout, and the upload zip."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader import __version__

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
    # Whole seconds, as Gradescope's specification writes them.
    assert type(gradescope["execution_time"]) is int and gradescope["execution_time"] >= 0
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


def wheel_of(package: zipfile.ZipFile) -> zipfile.ZipFile:
    """The grader's wheel inside the autograder zip."""
    wheels = [n for n in package.namelist() if n.endswith(".whl")]
    assert wheels == [f"activations_grader-{__version__}-py3-none-any.whl"], wheels
    return zipfile.ZipFile(io.BytesIO(package.read(wheels[0])))


def test_package_holds_the_scripts_and_one_wheel(package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == sorted(
        ["setup.sh", "run_autograder", f"activations_grader-{__version__}-py3-none-any.whl"])


def test_the_wheel_holds_the_grader_and_the_course(package: zipfile.ZipFile) -> None:
    names = set(wheel_of(package).namelist())
    course = "grader/_course/"
    for required in ("grader/__init__.py", "grader/cli.py", "grader/judge/judge.ini",
                     f"{course}exercises/activations/activations.py",
                     f"{course}reference/activations.py",
                     f"{course}reference/suites/test_activations.py",
                     f"{course}templates/feedback.html.j2",
                     f"{course}schemas/gradescope_results.schema.json",
                     f"{course}gradescope/setup.sh", f"{course}gradescope/run_autograder"):
        assert required in names, required
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in n]
    assert not [n for n in names if n.startswith(("tests/", "examples/", "grader/_course/."))]


def test_the_wheel_metadata_installs_grade(package: zipfile.ZipFile) -> None:
    wheel = wheel_of(package)
    info = f"activations_grader-{__version__}.dist-info/"
    metadata = wheel.read(info + "METADATA").decode()
    assert f"Version: {__version__}" in metadata and "Requires-Python: >=3.11" in metadata
    requires = [line.split(": ", 1)[1] for line in metadata.splitlines()
                if line.startswith("Requires-Dist: ")]
    assert any(r.startswith("numpy") for r in requires) and any(r.startswith("pytest")
                                                               for r in requires)
    assert not [r for r in requires if "hypothesis" in r or "extra" in r]  # tests' extras
    assert "Root-Is-Purelib: true" in wheel.read(info + "WHEEL").decode()
    assert "grade = grader.launch:main" in wheel.read(info + "entry_points.txt").decode()


def test_the_wheel_record_matches_its_files(package: zipfile.ZipFile) -> None:
    wheel = wheel_of(package)
    record_name = f"activations_grader-{__version__}.dist-info/RECORD"
    rows = list(csv.reader(wheel.read(record_name).decode().splitlines()))
    listed = {row[0]: row for row in rows}
    assert set(listed) == set(wheel.namelist())
    assert listed[record_name][1:] == ["", ""]
    for name, digest, size in (row for row in rows if row[0] != record_name):
        data = wheel.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        assert digest == f"sha256={expected.decode()}" and int(size) == len(data), name


def test_the_package_is_reproducible(package: zipfile.ZipFile, tmp_path: Path) -> None:
    again = tmp_path / "again.zip"
    assert grade("gradescope-package", "--out", again).returncode == 0
    assert again.read_bytes() == Path(str(package.filename)).read_bytes()


def test_package_scripts_are_executable(package: zipfile.ZipFile, tmp_path: Path) -> None:
    for info in package.infolist():
        mode = info.external_attr >> 16
        executable = info.filename in ("setup.sh", "run_autograder")
        assert bool(mode & stat.S_IXUSR) == executable, info.filename
    run = package.read("run_autograder").decode()
    assert run.startswith("#!/usr/bin/env bash\n")
    assert '"$VENV/bin/grade" gradescope' in run and "VENV=/autograder/venv" in run
    setup = package.read("setup.sh").decode()
    assert setup.startswith("#!/usr/bin/env bash\n") and '"$SOURCE"/*.whl' in setup
    if shutil.which("bash"):
        for name in ("setup.sh", "run_autograder"):
            (tmp_path / name).write_text(package.read(name).decode())
            assert subprocess.run(["bash", "-n", str(tmp_path / name)]).returncode == 0


def test_package_needs_a_zip_name(tmp_path: Path) -> None:
    done = grade("gradescope-package", "--out", tmp_path / "autograder.tar")
    assert done.returncode == 2 and ".zip" in done.stderr


def test_a_student_build_cannot_be_packaged(tmp_path: Path) -> None:
    from grader import gradescope_package
    from grader.errors import UsageError

    # A checkout whose reference/ holds no hidden suites, as a student build's grader has.
    for folder in gradescope_package.COURSE_FOLDERS:
        (tmp_path / folder).mkdir()
    with pytest.raises(UsageError, match="student build"):
        gradescope_package.package_files(tmp_path)


# setup.sh's choice of Python, run on fake interpreters: an old one answers the version check
# with a failure, a new one is this Python under another name.
OLD_PYTHON = "#!/bin/sh\nexit 1\n"
FAKE_UV = """#!{python}
import os, sys
with open(os.environ["UV_LOG"], "a") as log:
    print(*sys.argv[1:], file=log)
if sys.argv[1:3] == ["python", "install"]:
    bin_dir = os.path.join(os.environ["UV_PYTHON_INSTALL_DIR"],
                           "cpython-3.11.9-linux-x86_64-gnu", "bin")
    os.makedirs(bin_dir)
    os.symlink({python!r}, os.path.join(bin_dir, "python3.11"))
"""


def setup_function_run(function: str, path: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run one function of setup.sh, sourced, with PATH=path and its tools folder in tmp."""
    script = REPO / "gradescope" / "setup.sh"
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("setup.sh is a bash script; no bash here")
    return subprocess.run([bash, "-c", f'source "$1" && TOOLS="$2" && {function}', "setup",
                           str(script), str(tmp / "tools")], capture_output=True, text=True,
                          env={"PATH": str(path), "UV_LOG": str(tmp / "uv.log")}, timeout=60)


def fake_bin(tmp: Path, files: dict[str, str], links: dict[str, str]) -> Path:
    folder = tmp / "bin"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    for name, target in links.items():
        (folder / name).symlink_to(target)
    return folder


def test_setup_finds_a_new_enough_python_on_path(tmp_path: Path) -> None:
    real = os.path.realpath(sys.executable)
    folder = fake_bin(tmp_path, {"python3": OLD_PYTHON, "python3.14": OLD_PYTHON},
                      {"python3.12": real, "python3.11": real})
    done = setup_function_run("find_python", folder, tmp_path)
    # python3 and python3.14 are too old; python3.12 is the first new enough.
    assert done.returncode == 0 and done.stdout.strip() == str(folder / "python3.12")


def test_setup_finds_nothing_among_old_pythons(tmp_path: Path) -> None:
    folder = fake_bin(tmp_path, {"python3": OLD_PYTHON, "python3.10": OLD_PYTHON}, {})
    done = setup_function_run("find_python", folder, tmp_path)
    assert done.returncode != 0 and done.stdout == ""


def test_setup_installs_python_with_uv_when_none_is_new_enough(tmp_path: Path) -> None:
    real = os.path.realpath(sys.executable)
    tools = {name: shutil.which(name) for name in ("ls", "sort", "tail")}
    assert all(tools.values()), tools
    folder = fake_bin(tmp_path, {"python3": OLD_PYTHON, "python3.11": OLD_PYTHON,
                                 "uv": FAKE_UV.format(python=real)},
                      {name: str(target) for name, target in tools.items()})
    done = setup_function_run("choose_python", folder, tmp_path)
    installed = tmp_path / "tools" / "python" / "cpython-3.11.9-linux-x86_64-gnu" / "bin"
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(installed / "python3.11")
    assert "installing CPython 3.11 with uv" in done.stderr
    assert (tmp_path / "uv.log").read_text().splitlines() == ["python install 3.11"]


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
