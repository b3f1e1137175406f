"""The grade command as a user meets it: exit codes, one-line errors, the files it writes."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from grader.reports.gradebook import round_percent

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "submissions"

CORRECT_ACTIVATIONS = '''
import numpy as np

def relu(z):
    return np.maximum(0, z)

def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def tanh(z):
    return np.tanh(z)

def softmax(z):
    exp_z = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return exp_z / np.sum(exp_z, axis=-1, keepdims=True)
'''


def grade(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def test_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    done = grade(tmp_path / "nope", "--out", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr == f"grade: error: {tmp_path / 'nope'}: no such file or folder\n"
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_empty_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "subs").mkdir()
    done = grade(tmp_path / "subs", "--out", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.startswith("grade: error: no submissions found in")
    assert len(done.stderr.splitlines()) == 1


def test_output_inside_submissions_is_refused(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "activations.py").write_text(CORRECT_ACTIVATIONS)
    done = grade(subs, "--out", subs / "out")
    assert done.returncode == 2
    assert "is inside the submissions" in done.stderr


def test_bad_memory_value(tmp_path: Path) -> None:
    done = grade(SAMPLE, "--out", tmp_path / "out", "--memory", "lots")
    assert done.returncode == 2
    assert done.stderr == "grade: error: --memory: cannot read 'lots'; use a size like 512M or 1G\n"


def test_grade_alone_lists_the_commands() -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "grade")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("Usage: grade [OPTIONS] COMMAND [ARGS]...\n")
    listed = re.findall(r"^  ([a-z-]+)  ", done.stderr.split("Commands:\n", 1)[1], re.M)
    assert listed == ["check", "course", "gradescope", "gradescope-package", "handout", "merge",
                      "new-exercise", "run"]


def test_readme_usage_names_every_option_of_grade_run() -> None:
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", grade("run", "--help").stdout))
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme.split("## The `grade` command\n", 1)[1].split("\n## ", 1)[0]
    usage = section.split("```", 2)[1]
    assert usage.lstrip().startswith("grade [run] SUBMISSIONS --out OUT_DIR")
    assert sorted(o for o in options - {"--help"} if o not in usage) == []
    assert "`--no-timings`" in section


def test_assignment_options_need_a_layout_that_uses_them(tmp_path: Path) -> None:
    done = grade(SAMPLE, "--out", tmp_path / "out", "--assignment-id", "12")
    assert done.returncode == 2 and done.stderr == (
        "grade: error: --assignment-id names the assignment column of --gradebook canvas or "
        "moodle; grades.csv has one column per exercise\n")
    done = grade(SAMPLE, "--out", tmp_path / "out", "--gradebook", "moodle",
                 "--assignment-id", "12")
    assert done.returncode == 2 and done.stderr == (
        "grade: error: --assignment-id is for --gradebook canvas; Moodle asks which grade item "
        "the column goes to when you import it\n")
    assert not (tmp_path / "out").exists()


def test_help_has_examples() -> None:
    done = grade("--help")
    assert done.returncode == 0 and "Examples:" in done.stdout
    run_help = grade("run", "--help")
    assert "--timeout" in run_help.stdout and "--reveal" in run_help.stdout


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("sample") / "out"
    return out, grade(SAMPLE, "--out", out, "--jobs", "2")


def test_sample_class_grades_and_summarises(sample_out: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, done = sample_out
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    graded = [s for s in results["submissions"] if s["status"] == "graded"]
    mean = round_percent(sum(s["score"] / s["max_score"] for s in graded) / len(graded) * 100)
    assert re.search(rf"^graded 6 submission\(s\) in \d+\.\d s; mean score {mean:g}%$",
                     done.stdout, re.M), done.stdout
    schema = json.loads((REPO / "schemas" / "results.schema.json").read_text())
    jsonschema.validate(results, schema)
    ids = [s["id"] for s in results["submissions"]]
    assert ids == ["alice", "bob", "carol", "dave", "erin", "mallory"]
    for sid in ids:
        assert (out / sid / "feedback.html").is_file()
    assert (out / "index.html").is_file()


def test_sample_class_scores_are_right(sample_out: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = sample_out
    by_id = {s["id"]: s for s in json.loads((out / "results.json").read_text())["submissions"]}
    alice = by_id["alice"]
    core = {"activations", "leaky_relu", "softmax_debug", "scaling"}
    alice_core = [t for t in alice["tests"] if t["exercise"] in core]
    assert alice_core and all(t["outcome"] == "passed" for t in alice_core), [
        (t["id"], t["message"]) for t in alice_core if t["outcome"] != "passed"]
    dave = by_id["dave"]
    not_impl = [t for t in dave["tests"] if t["exercise"] == "activations"]
    assert all(t["outcome"] == "error" for t in not_impl)
    assert all("not implemented yet" in t["message"] for t in not_impl)
    bob_relu = [t for t in by_id["bob"]["tests"] if t["function"] == "relu" and t["outcome"] != "passed"]
    assert bob_relu and any(t["pitfall"] == "np_max" for t in bob_relu)
    erin_missing = [t for t in by_id["erin"]["tests"] if t["exercise"] == "leaky_relu"]
    assert erin_missing and all(t["message"] == "leaky_relu.py was not found in your submission"
                                for t in erin_missing)
    mallory = {t["function"]: t for t in by_id["mallory"]["tests"] if t["exercise"] == "activations"}
    assert mallory["relu"]["outcome"] == "timeout"
    assert "did not return within 2 s" in mallory["relu"]["message"] or "ran out of time" in mallory["relu"]["message"]
    assert "used more than 1 GiB of memory" in mallory["tanh"]["message"]
    assert "ended the Python process" in mallory["softmax"]["message"]


def test_sample_gradebook(sample_out: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = sample_out
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["id"] for r in rows] == ["alice", "bob", "carol", "dave", "erin", "mallory"]
    assert {"id", "score", "max_score", "percent", "activations"} <= set(rows[0])
    alice, dave = rows[0], rows[3]
    assert float(alice["activations"]) == 10.0
    assert float(dave["activations"]) == 0.0


def _rerun(sample_out: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path,
           *args: str | Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Grade the sample class again into a copy of its output folder (its cache included)."""
    out = tmp_path / "out"
    shutil.copytree(sample_out[0], out)
    return out, grade(SAMPLE, "--out", out, "--jobs", "2", *args)


def test_rerun_says_what_it_reused_and_canvas_names_the_assignment(
        sample_out: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    out, done = _rerun(sample_out, tmp_path, "--gradebook", "canvas",
                       "--assignment", "Activations", "--assignment-id", "1234")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "reused 6 of 6 results (unchanged)"
    assert lines[1].startswith("reused 6, graded 0 submission(s) in ") and "graded 6" not in lines[1]
    assert "warning" not in done.stderr
    header = (out / "grades-canvas.csv").read_text("utf-8").splitlines()[0]
    assert header == "Student,ID,SIS User ID,SIS Login ID,Section,Activations (1234)"


def test_canvas_without_an_assignment_id_warns(
        sample_out: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    out, done = _rerun(sample_out, tmp_path, "--gradebook", "canvas")
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "warning: grades-canvas.csv: the column 'Activation functions in NumPy' has no assignment id, so "
        "Canvas will offer to create a new assignment; to update an existing one pass "
        "--assignment-id N (N from the assignment's address, .../assignments/N)\n")
    assert (out / "grades-canvas.csv").read_text("utf-8").splitlines()[0].endswith(
        ",Activation functions in NumPy")


def test_moodle_leaves_out_whom_it_cannot_match(
        sample_out: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email,sis_id\nalice,Alice,alice@example.edu,\nbob,Bob,,\n"
                      "zoe,Zoe,,S9\n")
    out, done = _rerun(sample_out, tmp_path, "--gradebook", "moodle", "--roster", roster)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "warning: grades-moodle.csv leaves out 5 student(s) Moodle could not match (no email or "
        "ID number): bob (no email or sis_id in the roster), carol (not on the roster), dave (not "
        "on the roster), erin (not on the roster), mallory (not on the roster); give each an "
        "email or sis_id in the roster to import them\n")
    with open(out / "grades-moodle.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["Email address", "ID number", "Activation functions in NumPy"],
                    ["alice@example.edu", "", rows[1][2]], ["", "S9", "0"]]
    plain = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["id"] for r in plain] == ["alice", "bob", "zoe", "carol", "dave", "erin", "mallory"]
