"""`grade check`: a student checks their own work with the public tests only."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from grader import check, cli, cli_run, paths, pipeline, single
from grader.engine import GradeOptions
from grader.errors import UsageError
from grader.outputs import OutputOptions
from tests.procs import now_ticks, processes
from grader.records import GradeRun, Submission, SubmissionResult
from grader.records import TestOutcome as Outcome  # aliased so pytest does not collect it

# relu uses np.max (the lesson's classic slip); the others are right.
NP_MAX_RELU = '''
import numpy as np

def relu(z):
    return np.max(z)

def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def tanh(z):
    return np.tanh(z)

def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''


def grade(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def _outcome(name: str, function: str, outcome: str, visibility: str, **kw: object) -> Outcome:
    fields: dict[str, object] = {
        "id": f"suite::{name}", "exercise": "activations", "function": function, "name": name,
        "outcome": outcome, "score": 1.0 if outcome == "passed" else 0.0, "max_score": 1.0,
        "visibility": visibility}
    fields.update(kw)
    return Outcome(**fields)  # type: ignore[arg-type]


def _hidden_names() -> set[str]:
    return {m for p in paths.suites_dir().glob("*.py")
            for m in re.findall(r"def (test_\w+)", p.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def handout_check(tmp_path_factory: pytest.TempPathFactory
                  ) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A handout with activations.py filled in (relu wrong), checked from its top folder."""
    root = tmp_path_factory.mktemp("student") / "my-work"
    assert grade("handout", "--out", root).returncode == 0
    (root / "exercises" / "activations" / "activations.py").write_text(NP_MAX_RELU)
    return root, grade("check", cwd=root)


def test_check_prints_each_function_with_message_and_hint(
        handout_check: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, done = handout_check
    # relu fails (and so does softmax_debug's stub, the unstable softmax it asks to fix).
    assert done.returncode == check.FAILED_EXIT, done.stderr
    out = done.stdout
    assert re.search(r"FAIL\s+relu", out) and re.search(r"PASS\s+sigmoid", out)
    assert re.search(r"PASS\s+softmax", out)
    assert "np.maximum" in out and "Hint:" in out  # the np_max pitfall's hint
    assert re.search(r"TODO\s+leaky_relu", out)  # a stub not begun yet: one line, no hints
    assert "public checks:" in out and "feedback page:" in out


def test_check_shows_no_hidden_test(
        handout_check: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, done = handout_check
    page = (root / "feedback" / "feedback.html").read_text(encoding="utf-8")
    for name in _hidden_names():
        assert not re.search(rf"\b{name}\b", done.stdout + page), name
    assert "test_activations_public" in page or "relu works element by element" in page


def test_rerun_ignores_its_own_feedback_folder_and_works_in_one_exercise(
        handout_check: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    root, _ = handout_check
    again = grade("check", root, "--out", tmp_path / "fb")
    assert again.returncode == check.FAILED_EXIT, again.stderr
    assert re.search(r"FAIL\s+relu", again.stdout) and (tmp_path / "fb" / "feedback.html").is_file()
    one = grade("check", cwd=root / "exercises" / "activations")
    assert one.returncode == check.FAILED_EXIT, one.stderr
    assert "activations.py" in one.stdout and "leaky_relu" not in one.stdout


def test_missing_and_empty_folders_are_usage_errors(tmp_path: Path) -> None:
    done = grade("check", tmp_path / "nope")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    (tmp_path / "empty").mkdir()
    done = grade("check", tmp_path / "empty")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith("grade: error:")
    assert not (tmp_path / "empty" / "feedback").exists()


def test_windows_runs_the_check_without_the_sandbox(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    assert check.needs_portable()
    # Grading a class needs the sandbox: a way forward, not a traceback.
    with pytest.raises(UsageError, match="WSL"):
        cli_run._grade(pipeline.RunPlan(tmp_path, tmp_path / "out", GradeOptions(),
                                        OutputOptions()), True)


def test_what_the_portable_path_calls_exists_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The calls Windows lacks are not made on the way: checked by taking them away here."""
    import os
    import signal

    from grader import engine
    from grader.sandbox.client import SandboxConfig
    from grader.sandbox.portable import PortableSandbox

    monkeypatch.setattr(sys, "platform", "win32")
    sent: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append(pid))
    # Signal 0 is CTRL_C_EVENT there: probing a stale work folder's pid would interrupt it.
    assert engine._alive(1) and sent == []
    monkeypatch.delattr(os, "geteuid")
    monkeypatch.delattr(signal, "SIGXCPU")
    box = PortableSandbox(SandboxConfig())
    assert box.uid is None
    session = box.open({"activations": "x = 1\n"})
    # A child that ended on its own is described without POSIX-only signal names.
    monkeypatch.setattr(session, "_end", lambda: {"exit": 3})
    assert "exit code 3" in session._died("relu").message


def test_portable_check_agrees_with_the_sandboxed_one_and_says_what_it_lacks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What Windows runs, tried here: plain Python children over a loopback socket."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "activations.py").write_text(NP_MAX_RELU.replace(
        "def tanh(z):\n    return np.tanh(z)",
        "def tanh(z):\n    while True:\n        pass").replace(
        "def sigmoid(z):", "def sigmoid(z):\n    if z.size > 3:\n        import os\n        os._exit(3)"))
    began = now_ticks()
    reports = {mode: check.run_check(folder, tmp_path / mode, timeout=1.0, portable=mode == "plain")
               for mode in ("plain", "sandboxed")}
    plain, boxed = reports["plain"], reports["sandboxed"]

    def seen(report: check.CheckReport) -> list[tuple[str, str, str]]:
        return [(t.id, t.outcome, t.message) for t in report.result.tests]

    assert seen(plain) == seen(boxed)
    by_function = {f.function: f for f in plain.functions}
    assert by_function["relu"].passed < by_function["relu"].total
    assert "did not return within 1 s" in by_function["tanh"].failures[0].message
    assert "os._exit" in " ".join(t.message for t in by_function["sigmoid"].failures)
    assert by_function["softmax"].passed == by_function["softmax"].total
    assert len(plain.warnings) == 1 and "cannot fork a sandbox" in plain.warnings[0]
    assert boxed.warnings == ()
    cli._print_check(plain)
    assert "warning: this machine cannot fork a sandbox" in capsys.readouterr().err
    left = [p for p in processes() if b"child_main" in p.cmdline and p.started >= began]
    assert left == []


def test_visible_only_recomputes_scores() -> None:
    tests = (_outcome("a", "relu", "passed", "visible"), _outcome("b", "relu", "failed", "hidden"),
             _outcome("c", "tanh", "failed", "visible"))
    result = SubmissionResult(id="me", status="graded", score=1.0, max_score=3.0, tests=tests)
    run = GradeRun(grader_version="x", seed=1, isolation="none", submissions=(result,))
    only = check.visible_only(run).submissions[0]
    assert [t.name for t in only.tests] == ["a", "c"]
    assert (only.score, only.max_score) == (1.0, 2.0)


def test_summarize_groups_by_function_and_spots_stubs() -> None:
    stub = dict(pitfall="not_implemented", message="not implemented yet")
    tests = (_outcome("a", "relu", "passed", "visible"), _outcome("b", "relu", "failed", "visible"),
             _outcome("c", "tanh", "error", "visible", **stub),
             _outcome("d", "tanh", "error", "visible", **stub))
    result = SubmissionResult(id="me", status="graded", score=1.0, max_score=4.0, tests=tests)
    relu, tanh = check.summarize(result)
    assert (relu.function, relu.passed, relu.total, relu.not_started) == ("relu", 1, 2, False)
    assert [t.name for t in relu.failures] == ["b"]
    assert tanh.not_started and tanh.total == 2


def test_only_exercises_with_a_file_are_checked() -> None:
    assert check.present_exercises({"activations": ""}, ("activations", "scaling")) == (
        "activations",)
    assert check.present_exercises({"helper": ""}, ("activations",)) == ("activations",)
    assert check.check_options(("activations",), 2.0, ()).jobs == 1


def test_as_single_folds_exercise_folders_into_one() -> None:
    found = [
        Submission("activations", {"activations": "A"}, ("note a",), "activations"),
        Submission("feedback", {}, (), "feedback", error="no exercise files found in feedback"),
        Submission("old", {"activations": "OLD", "scaling": "S"}, (), "old"),
    ]
    merged = single.as_single(found, "me")
    assert merged.error is None and merged.id == "me"
    assert merged.sources == {"activations": "A", "scaling": "S"}
    assert merged.problems[0] == "note a"
    assert "copy in activations/ was graded" in merged.problems[1]
    alone = single.as_single([replace(found[1])], "me")
    assert alone.error is not None and alone.sources == {}


def test_exit_code_says_whether_begun_work_failed() -> None:
    stub = dict(pitfall="not_implemented", message="not implemented yet")
    passed = _outcome("a", "relu", "passed", "visible")
    todo = _outcome("b", "tanh", "error", "visible", **stub)
    wrong = _outcome("c", "sigmoid", "failed", "visible")

    def report(*tests: Outcome) -> check.CheckReport:
        result = SubmissionResult(id="me", status="graded", score=0.0, max_score=3.0, tests=tests)
        return check.CheckReport(result=result, page=Path("p"), functions=check.summarize(result),
                                 warnings=())

    # Functions not started yet (TODO) do not fail the command; a wrong one (FAIL) does.
    assert report(passed, todo).exit_code == 0
    assert report(passed, todo, wrong).exit_code == check.FAILED_EXIT != 0


def test_a_check_where_no_test_ran_is_an_error(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Never 'public checks: 0 / 0 points' and a clean exit: that hid a broken installation."""
    (tmp_path / "activations.py").write_text(NP_MAX_RELU)
    empty = SubmissionResult(id="me", status="graded", score=0.0, max_score=0.0, tests=())
    run = GradeRun(grader_version="x", seed=1, isolation="none", submissions=(empty,))
    monkeypatch.setattr(check, "grade_submissions", lambda *args: run)
    with pytest.raises(check.CheckNotRun, match="no public check could run for activations"):
        check.run_check(tmp_path, portable=True)
    assert issubclass(check.CheckNotRun, UsageError)  # one line and exit 2, not a traceback


def _course_without_reference(root: Path) -> Path:
    """What a student's wheel installs: the course material minus reference/, plus the plots'
    reference curves as values (what hatch_build.py writes)."""
    import json
    import shutil

    from grader.judge import plots

    def reference(exercise: str) -> object:
        import importlib
        return importlib.import_module(f"reference.{exercise}")

    for folder in ("exercises", "templates", "schemas"):
        shutil.copytree(paths.course_root() / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(paths.course_root() / "course.toml", root / "course.toml")
    curves = root / plots.CURVES_FILE
    curves.parent.mkdir(parents=True)
    curves.write_text(json.dumps(plots.reference_curves(reference)))  # type: ignore[arg-type]
    return root


def test_the_check_needs_nothing_of_the_reference(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A student's install checks and plots exactly as the instructor's does.

    The portable path judges in this process, so the course root can be swapped here.
    """
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "activations.py").write_text(NP_MAX_RELU)
    (folder / "scaling.py").write_text("def softmax_temperature(z, t):\n    return z / t\n")
    with_reference = check.run_check(folder, tmp_path / "a", portable=True)
    course = _course_without_reference(tmp_path / "course")
    monkeypatch.setattr(paths, "course_root", lambda: course)
    # pytest imports a test file by its name: the copies would clash with the modules just run.
    for name in [m for m in sys.modules if m.startswith("test_") and m.endswith("_public")]:
        monkeypatch.delitem(sys.modules, name)
    without = check.run_check(folder, tmp_path / "b", portable=True)
    assert not paths.reference_dir().exists()

    def seen(report: check.CheckReport) -> list[tuple[str, str, str, float]]:
        return [(t.id, t.outcome, t.message, t.score) for t in report.result.tests]

    assert seen(without) == seen(with_reference) and without.exit_code == check.FAILED_EXIT
    assert {t.id.split("::")[0] for t in without.result.tests} == {
        "test_activations_public", "test_scaling_public"}
    assert without.result.curves == with_reference.result.curves
    assert len(without.result.curves) >= 5  # activations' four and scaling's entropy
