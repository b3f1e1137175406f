"""`grade` as a CI job runs it: the JUnit XML and the GitHub step summary follow `--reveal`.

The console script grades a small class (one half-correct submission, one untouched stub) with
`--junit` and `$GITHUB_STEP_SUMMARY` set, once per reveal level; the hidden tests' names and
messages are taken from the results.json the same run writes.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader import paths
from grader.reports.context import SAFE_MESSAGE_ENDINGS

junitparser = pytest.importorskip("junitparser")

GRADE = Path(sys.executable).with_name("grade")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax")
EARLIER_STEP = "## Tests of an earlier step\n"
# Appended after the reference's functions, so this relu replaces the correct one.
BROKEN_RELU = '''

def relu(z):
    """Broken on purpose: the absolute value instead of max(0, z)."""
    return np.abs(np.asarray(z, dtype=np.float64))
'''


@dataclass(frozen=True)
class CiRun:
    """What one `grade` run left behind."""

    results: dict[str, Any]
    junit_raw: str
    junit: Any
    """The JUnit file as junitparser reads it."""
    summary: str
    """The step summary file, Markdown escapes removed."""

    def submission(self, sid: str) -> dict[str, Any]:
        """One submission's entry in results.json."""
        found: dict[str, Any] = next(s for s in self.results["submissions"] if s["id"] == sid)
        return found

    def section(self, sid: str) -> list[str]:
        """The lines of one submission's part of the step summary."""
        text = self.summary.split(f"\n### {sid}\n", 1)[1]
        return text.split("\n### ", 1)[0].strip().splitlines()

    def junit_words(self) -> str:
        """Everything a CI page could show from the JUnit file: names, messages and bodies."""
        words = []
        for suite in self.junit:
            for case in suite:
                words += [case.name, case.classname]
                words += [f"{r.message}\n{r.text}" for r in case.result]
        return "\n".join(words)


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class of two: 'half' has the reference's activations with relu broken, 'stub' has the
    handout's untouched stub."""
    root = tmp_path_factory.mktemp("ci") / "class"
    (root / "half").mkdir(parents=True)
    (root / "stub").mkdir()
    reference = (paths.reference_dir() / "activations.py").read_text("utf-8")
    (root / "half" / "activations.py").write_text(reference + BROKEN_RELU, "utf-8")
    shutil.copy(paths.exercises_dir() / "activations" / "activations.py", root / "stub")
    return root


@pytest.fixture(scope="module")
def ci_run(class_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], CiRun]:
    """Runs of the console script, one per reveal level, each made once for the module."""
    if not GRADE.exists():
        pytest.skip(f"the console script is not installed next to {sys.executable}")

    @functools.cache
    def run(reveal: str) -> CiRun:
        """Grade the class in CI's way: --junit, $GITHUB_STEP_SUMMARY and --fail-under."""
        tmp = tmp_path_factory.mktemp(f"reveal-{reveal}")
        summary = tmp / "summary.md"
        summary.write_text(EARLIER_STEP, "utf-8")  # other steps' summaries share the file
        env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "CI": "true",
               "GITHUB_ACTIONS": "true"}
        done = subprocess.run(
            [str(GRADE), str(class_dir), "--out", str(tmp / "out"), "--junit",
             str(tmp / "junit.xml"), "--reveal", reveal, "--fail-under", "60", "--no-plots"],
            env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 1, done.stderr  # both score below 60%
        raw = (tmp / "junit.xml").read_text("utf-8")
        markdown = summary.read_text("utf-8")
        assert markdown.startswith(EARLIER_STEP + "## Grading results\n")
        return CiRun(json.loads((tmp / "out" / "results.json").read_text("utf-8")), raw,
                     junitparser.JUnitXml.fromfile(str(tmp / "junit.xml")),
                     re.sub(r"\\(.)", r"\1", markdown))

    return run


def _tests(run: CiRun, visibility: str) -> list[dict[str, Any]]:
    """Every submission's tests of one visibility, from results.json."""
    return [t for s in run.results["submissions"] for t in s["tests"]
            if t["visibility"] == visibility]


def _secret_titles(run: CiRun) -> set[str]:
    """Hidden tests' titles; a few repeat (or are part of) a visible test's public title."""
    visible = {t["name"] for t in _tests(run, "visible")}
    return {t["name"] for t in _tests(run, "hidden")
            if not any(t["name"] in title for title in visible)}


def _secret_messages(run: CiRun) -> set[str]:
    """First lines of hidden failure messages that describe the hidden inputs (messages about
    missing files and stubs say nothing about them and may show)."""
    return {t["message"].splitlines()[0] for t in _tests(run, "hidden")
            if t["message"].strip() and not t["message"].endswith(SAFE_MESSAGE_ENDINGS)}


def _failing_hidden_activations(run: CiRun) -> list[dict[str, Any]]:
    """The hidden tests of the broken relu that 'half' failed."""
    return [t for t in run.submission("half")["tests"]
            if t["visibility"] == "hidden" and t["outcome"] != "passed"
            and t["exercise"] == "activations"]


def test_none_names_no_hidden_test(ci_run: Callable[[str], CiRun]) -> None:
    run = ci_run("none")
    hidden_ids = {t["id"] for t in _tests(run, "hidden")}
    titles, messages = _secret_titles(run), _secret_messages(run)
    assert len(hidden_ids) > 50 and len(titles) > 30 and messages
    words = run.junit_words()
    for secret in hidden_ids | titles | messages:
        assert secret not in run.junit_raw and secret not in words, secret
        assert secret not in run.summary, secret
    half = next(s for s in run.junit if s.name == "half")
    numbered = {c.name for c in half if c.classname == "half.activations"} - {
        t["id"] for t in _tests(run, "visible")}
    assert numbered == {f"hidden test {k} of 10 (activations.py)" for k in range(1, 11)}


def test_none_keeps_the_lessons_words(ci_run: Callable[[str], CiRun]) -> None:
    run = ci_run("none")
    half = next(s for s in run.junit if s.name == "half")
    case = next(c for c in half if c.name == "hidden test 1 of 10 (activations.py)")
    # What was observed of the answer (np.abs: the negative entries), not a guessed np.max.
    assert case.result[0].message.startswith("relu() in activations.py: It returned values that "
                                             "differ from the reference")
    assert "Hint: Only the entries where the input is negative are wrong" in case.result[0].text
    assert "np.max" not in case.result[0].text
    assert "  - 2 hidden tests failed" in run.section("half")


@pytest.mark.parametrize("reveal", ["none", "names", "all"])
def test_junit_is_valid_with_the_runs_counts(ci_run: Callable[[str], CiRun], reveal: str) -> None:
    run = ci_run(reveal)
    suites = {s.name: s for s in run.junit}
    assert list(suites) == ["half", "stub"]
    for sid, suite in suites.items():
        tests = run.submission(sid)["tests"]
        outcomes = [t["outcome"] for t in tests]
        assert suite.tests == len(tests) == len(list(suite)) > 90
        assert suite.failures == outcomes.count("failed")
        assert suite.errors == outcomes.count("error") + outcomes.count("timeout")
        names = [(c.classname, c.name) for c in suite]
        assert len(set(names)) == len(names)  # each case stays apart in a CI test report
    assert suites["stub"].failures + suites["stub"].errors == suites["stub"].tests
    passed = sum(not case.result for case in suites["half"])
    assert passed == sum(t["exercise"] == "activations" and t["function"] != "relu"
                         for t in run.submission("half")["tests"])
    assert (run.junit.tests, run.junit.failures + run.junit.errors) == (
        suites["half"].tests + suites["stub"].tests, 2 * suites["half"].tests - passed)


def test_summary_has_one_line_per_function(ci_run: Callable[[str], CiRun]) -> None:
    run = ci_run("none")
    lines = run.section("half")
    tests = run.submission("half")["tests"]
    for function in ACTIVATIONS:
        rows = [line for line in lines if line.startswith(f"| activations | {function}() |")]
        mine = [t for t in tests if (t["exercise"], t["function"]) == ("activations", function)]
        status = "FAIL" if function == "relu" else "PASS"
        points = f"{sum(t['score'] for t in mine):g} / {sum(t['max_score'] for t in mine):g}"
        assert rows == [f"| activations | {function}() | {points} | {status} |"]
    others = ", ".join(e for e in {t["exercise"]: 0 for t in tests} if e != "activations")
    assert f"| {others} | not started | 0 / 60 | TODO |" in lines
    assert "| **Total** | | **8 / 70** (11.4%) | 3 PASS, 1 FAIL, 15 TODO |" in lines
    assert sum(line.startswith("|") for line in lines) == 2 + len(ACTIVATIONS) + 2


def test_summary_gives_each_hint_once(ci_run: Callable[[str], CiRun]) -> None:
    run = ci_run("none")
    for sid in ("half", "stub"):
        hints = {h for t in run.submission(sid)["tests"] if t["outcome"] != "passed"
                 for h in t["hints"]}
        lines = run.section(sid)
        assert hints and all(lines.count(f"- {hint}") == 1 for hint in hints)
        assert sum(line.startswith("- ") for line in lines) <= len(hints) + 1


def test_unstarted_submission_summary_is_short(ci_run: Callable[[str], CiRun]) -> None:
    lines = ci_run("none").section("stub")
    assert len(lines) <= 10, "\n".join(lines)
    assert "| activations, leaky_relu, softmax_debug, scaling, concepts, linear_collapse, " \
        "softmax_properties | not started | 0 / 70 | TODO |" in lines
    assert lines[-1].startswith("- Replace the `raise NotImplementedError` line")


def test_names_shows_hidden_names_but_not_their_messages(
        ci_run: Callable[[str], CiRun]) -> None:
    run = ci_run("names")
    case_names = {c.name for s in run.junit for c in s}
    assert {t["id"] for t in _tests(run, "hidden")} <= case_names
    assert not any(c.startswith("hidden test ") for c in case_names)
    words = run.junit_words()
    for message in _secret_messages(run):
        assert message not in words and message not in run.summary, message
    failing = _failing_hidden_activations(run)
    assert len(failing) == 2
    for test in failing:
        assert f"  - {test['name']} (hidden): failed" in run.section("half")


def test_all_shows_hidden_names_and_messages(ci_run: Callable[[str], CiRun]) -> None:
    run = ci_run("all")
    assert {t["id"] for t in _tests(run, "hidden")} <= {c.name for s in run.junit for c in s}
    words = run.junit_words()
    messages = _secret_messages(run)
    assert messages and all(message in words for message in messages)
    failing = _failing_hidden_activations(run)
    assert len(failing) == 2
    for test in failing:
        first = test["message"].splitlines()[0]
        assert f"  - {test['name']} (hidden): {first}" in run.section("half")
