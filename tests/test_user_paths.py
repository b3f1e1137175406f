"""Every path a user names is tried before any work: one line and exit 2, never a traceback.

Run through the installed console script, as a user runs it. /proc refuses new files and folders
to every user, root included, so these cases hold whoever runs the tests.
"""

from __future__ import annotations

import errno
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli, gradescope_package
from grader.atomic import probe_folder
from grader.errors import UsageError
from grader.outputs import OutputError, check_file, check_folder, writing

GRADE = Path(sys.executable).parent / "grade"
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "submissions"

pytestmark = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")


def refused(args: list[str | Path], cwd: Path) -> str:
    """Run grade with args; assert it stopped at once with exit 2 and one line; return the line."""
    started = time.perf_counter()
    done = subprocess.run([str(GRADE), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=120)
    elapsed = time.perf_counter() - started
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == "", done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("grade: error: "), done.stderr
    # Grading the sample class takes seconds; a refusal takes the interpreter's start-up.
    assert elapsed < 3, elapsed
    assert not list(cwd.rglob("results.json")) and not list(cwd.rglob("feedback.html"))
    return lines[0]


@pytest.fixture()
def place(tmp_path: Path) -> Path:
    """A working folder holding a file named some_file, an empty folder named a_folder and a
    roster."""
    (tmp_path / "some_file").write_text("not a folder\n")
    (tmp_path / "roster.csv").write_text("id\nalice\n")
    (tmp_path / "a_folder").mkdir()
    return tmp_path


RUN_CASES = [
    (["--out", "/proc/x"],
     "--out /proc/x: cannot create this folder (No such file or directory)"),
    (["--out", "some_file/x"], "--out some_file/x: some_file is a file, not a folder"),
    (["--out", "some_file"], "--out some_file: exists and is not a folder"),
    (["--out", "out", "--junit", "/proc/j.xml"],
     "--junit /proc/j.xml: cannot write a file in /proc (No such file or directory)"),
    (["--out", "out", "--junit", "some_file/j.xml"],
     "--junit some_file/j.xml: some_file is a file, not a folder"),
    (["--out", "out", "--junit", "a_folder"], "--junit a_folder: is a folder, not a file"),
    (["--out", "out", "--junit", "out/results.json"],
     "--junit out/results.json: grade writes its own results.json there; choose another name"),
    (["--out", "out", "--junit", "out"],
     "--junit out: the output folder out goes there; choose another file"),
    (["--out", "out", "--roster", "absent.csv"], "--roster absent.csv: no such file"),
    (["--out", "out", "--roster", "a_folder"], "--roster a_folder: is a folder, not a CSV file"),
    (["--out", "out", "--roster", "roster.csv", "--junit", "roster.csv"],
     "--junit roster.csv is the roster; choose another file"),
]


@pytest.mark.parametrize(("args", "message"), RUN_CASES)
def test_grade_run_refuses_a_bad_path_before_grading(place: Path, args: list[str],
                                                     message: str) -> None:
    assert refused([SAMPLE, *args], place) == f"grade: error: {message}"


def test_outputs_inside_the_submissions_are_refused(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "activations.py").write_text("def relu(z):\n    return z\n")
    assert refused(["run", subs, "--out", subs / "out"], tmp_path) == (
        f"grade: error: the output folder {subs / 'out'} is inside the submissions {subs}; "
        "choose a folder outside it")
    assert refused([subs, "--out", "out", "--junit", subs / "alice" / "j.xml"], tmp_path) == (
        f"grade: error: --junit {subs / 'alice' / 'j.xml'} is inside the submissions {subs}; "
        "choose a file outside them")


def test_a_refused_run_leaves_no_folder_behind(place: Path) -> None:
    refused([SAMPLE, "--out", "new/deep/out", "--junit", "/proc/j.xml"], place)
    assert not (place / "new").exists()
    assert sorted(p.name for p in place.iterdir()) == ["a_folder", "roster.csv", "some_file"]


HANDOUT_CASES = [
    (["--out", "/proc/x.zip"],
     "--out /proc/x.zip: cannot write a file in /proc (No such file or directory)"),
    (["--out", "/proc/x"], "--out /proc/x: cannot create this folder (No such file or directory)"),
    (["--out", "some_file"], "--out some_file: exists and is not a folder"),
    (["--out", "some_file/h.zip"], "--out some_file/h.zip: some_file is a file, not a folder"),
    (["--out", "full"], "--out full: exists and is not empty; remove it or choose another"),
    (["--out", "folder.zip"], "--out folder.zip: is a folder, not a file"),
]


@pytest.mark.parametrize(("args", "message"), HANDOUT_CASES)
def test_grade_handout_refuses_a_bad_path_before_building(place: Path, args: list[str],
                                                          message: str) -> None:
    (place / "full").mkdir()
    (place / "full" / "old.txt").write_text("an earlier handout\n")
    (place / "folder.zip").mkdir()
    assert refused(["handout", *args], place) == f"grade: error: {message}"
    assert not list(place.rglob("*.py"))


def test_grade_check_refuses_a_bad_path_before_checking(place: Path) -> None:
    work = SAMPLE / "alice"
    assert refused(["check", work, "--out", "/proc/x"], place) == (
        "grade: error: --out /proc/x: cannot create this folder (No such file or directory)")
    assert refused(["check", work, "--out", "some_file"], place) == (
        "grade: error: --out some_file: exists and is not a folder")
    assert refused(["check", "some_file"], place) == (
        "grade: error: some_file is a file; run `grade check` in the folder that holds it")
    assert not (work / "feedback").exists()


def test_grade_gradescope_refuses_a_bad_results_path(place: Path) -> None:
    work = SAMPLE / "alice"
    assert refused(["gradescope", "--submission", work, "--results", "/proc/r.json"], place) == (
        "grade: error: --results /proc/r.json: cannot write a file in /proc "
        "(No such file or directory)")
    assert refused(["gradescope", "--submission", work, "--results", "a_folder"], place) == (
        "grade: error: --results a_folder: is a folder, not a file")
    inside = work / "results.json"
    assert refused(["gradescope", "--submission", work, "--results", inside], place) == (
        f"grade: error: --results {inside} is inside the submission {work}; "
        "choose a file outside it")


def test_grade_gradescope_package_refuses_a_bad_path(place: Path) -> None:
    assert refused(["gradescope-package", "--out", "/proc/a.zip"], place) == (
        "grade: error: --out /proc/a.zip: cannot write a file in /proc (No such file or directory)")
    assert refused(["gradescope-package", "--out", "a_folder"], place) == (
        "grade: error: --out a_folder: is a folder, not a file")
    assert refused(["gradescope-package", "--out", "some_file/a.zip"], place) == (
        "grade: error: --out some_file/a.zip: some_file is a file, not a folder")


def test_a_write_that_fails_after_the_checks_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    """The last line of defence: the disk fills up between the trial and the write."""
    def full_disk(out: Path) -> list[str]:
        raise OSError(errno.ENOSPC, "No space left on device", str(out))
    monkeypatch.setattr(gradescope_package, "build_package", full_disk)
    target = tmp_path / "autograder.zip"
    done = CliRunner().invoke(cli.main, ["gradescope-package", "--out", str(target)])
    assert done.exit_code == 2
    assert done.output == f"grade: error: cannot write {target}: No space left on device\n"


# -- the checks themselves ------------------------------------------------------------------------


def test_the_trial_leaves_the_file_system_as_it_was(tmp_path: Path) -> None:
    probe_folder(tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "kept").mkdir()
    check_folder(tmp_path / "kept", "--out")
    check_file(tmp_path / "kept" / "new" / "j.xml", "--junit")
    assert [p.name for p in tmp_path.rglob("*")] == ["kept"]


def test_a_dangling_link_is_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    with pytest.raises(UsageError, match=r"link is a file, not a folder$"):
        check_folder(tmp_path / "link" / "out", "--out")


def test_writing_names_the_file_or_the_target(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"^cannot write /x/y\.json: Permission denied$"):
        with writing(tmp_path):
            raise PermissionError(errno.EACCES, "Permission denied", "/x/y.json")
    with pytest.raises(OutputError, match=r"No space left on device$") as caught:
        with writing(tmp_path):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert str(caught.value).startswith(f"cannot write {tmp_path}: ")
    assert issubclass(OutputError, UsageError)  # exit 2 and one line, like a usage mistake
