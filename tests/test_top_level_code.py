"""Grading the functions, not the experiments around them: notebooks and scripts with plots,
display calls, input() and framework comparisons score exactly what their functions alone score,
through the `grade` command, with one note saying what did not run."""

from __future__ import annotations

import html
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grader.sandbox.standins import FALLBACK
from grader.submissions import discover
from tests.notebooks.cases import CASES, Case, write_class

REPO = Path(__file__).resolve().parents[1]
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
if any(importlib.util.find_spec(name) for name in ("torch", "tensorflow")):
    pytest.skip("the cases stand for libraries the grader does not have: torch and tensorflow",
                allow_module_level=True)


def grade(subs: Path, out: Path) -> dict[str, dict[str, Any]]:
    """Run `grade` on a class; return results.json's submissions by id."""
    done = subprocess.run([sys.executable, "-m", "grader", str(subs), "--out", str(out),
                           "--no-plots", "--quiet"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {s["id"]: s for s in results["submissions"]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Every case and its functions alone, graded as one class."""
    base = tmp_path_factory.mktemp("top-level")
    write_class(base / "subs")
    return base / "out", grade(base / "subs", base / "out")


def verdicts(result: dict[str, Any]) -> list[tuple[str, str, float]]:
    """Each test's id, outcome and points."""
    return [(t["id"], t["outcome"], t["score"]) for t in result["tests"]]


def did_not_run(notes: list[str]) -> list[str]:
    """The notes that say what of a submission was left out or could not run."""
    return [n for n in notes if "left out" in n or "cannot run as it is" in n]


def page_notes(out: Path, submission: str) -> list[str]:
    """The items of the 'About your submission' box of a student's page."""
    page = (out / submission / "feedback.html").read_text(encoding="utf-8")
    box = re.search(r'aria-labelledby="problems-title">(.*?)</section>', page, re.S)
    items = re.findall(r'<li[^>]*>(.*?)</li>', box.group(1), re.S) if box else []
    return [html.unescape(item.strip()) for item in items]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_score_is_the_score_of_the_functions_alone(
        graded: tuple[Path, dict[str, dict[str, Any]]], case: Case) -> None:
    """Test by test, the same outcome and points as the bare functions, and not all zero."""
    _, results = graded
    mine, bare = results[case.name], results[f"{case.name}-bare"]
    assert mine["status"] == bare["status"] == "graded"
    assert verdicts(mine) == verdicts(bare)
    assert mine["score"] == bare["score"] > 0


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_page_says_once_what_did_not_run(
        graded: tuple[Path, dict[str, dict[str, Any]]], case: Case) -> None:
    """One note (none for a script that runs as it is), on the page and in results.json."""
    out, results = graded
    assert len(did_not_run(results[case.name]["problems"])) == case.notes
    assert len(did_not_run(page_notes(out, case.name))) == case.notes
    assert results[f"{case.name}-bare"]["problems"] == []


def test_the_notes_say_which_cells_and_what(
        graded: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    """The cells left out and what they did, in the student's terms."""
    _, results = graded
    (note,) = did_not_run(results["tutorial"]["problems"])
    assert note == (
        "tutorial.ipynb: the grader ran only what your graded functions need and left out "
        "cells 2\u20133, 6, 9\u201310, 13\u201314 (imports of matplotlib.pyplot, seaborn, "
        "IPython.display; calls to print(), display(), sns.set_theme(), plot_activation(), "
        "relu() and 15 more; 1 other statement); 1 line of IPython magics or shell commands.")
    (interactive,) = did_not_run(results["interactive"]["problems"])
    assert interactive == (
        "interactive.ipynb: the grader ran only what your graded functions need and left out "
        "cells 5\u20137 (calls to input(), print(), float(), softmax_temperature(), entropy()).")
    (script,) = did_not_run(results["script-torch"]["problems"])
    assert script == (
        "activations.py imports torch, which the grader does not have, so it cannot run as it "
        "is: its functions were graded without the top-level code they do not need (lines "
        "2\u20133, 25\u201333: imports of matplotlib.pyplot, torch; calls to print(), "
        "plt.subplots(), zip(), ax.plot(), f() and 6 more).")


def test_a_function_that_needs_a_missing_library_fails_alone_naming_it(
        graded: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    """tanh calls torch: its tests fail with the module, cell and line; relu and sigmoid pass."""
    _, results = graded
    tests = results["frameworks"]["tests"]
    failing = {t["function"] for t in tests if t["exercise"] == "activations"
               and t["outcome"] != "passed" and t["function"] != "softmax"}
    assert failing == {"tanh"}
    message = next(t["message"] for t in tests if t["function"] == "tanh")
    assert message == (
        "ModuleNotFoundError while calling tanh() (frameworks.ipynb cell 4, line 3: "
        "return torch.tanh(torch.as_tensor(z)).numpy()): No module named 'torch': it is not "
        "installed where your code is graded (imported at frameworks.ipynb cell 2, "
        "line 3)")
    (note,) = did_not_run(results["frameworks"]["problems"])
    assert note.endswith("torch is not installed where your code is graded, so a function that "
                         "uses it fails.")


def test_in_a_script_too_only_the_function_that_needs_the_library_fails(
        graded: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    """The same for a .py file that cannot be imported as it is: named by file and line."""
    _, results = graded
    tests = results["script-needs-torch"]["tests"]
    assert {t["function"] for t in tests
            if t["exercise"] == "activations" and t["outcome"] != "passed"} == {"tanh"}
    message = next(t["message"] for t in tests if t["function"] == "tanh")
    assert message == (
        "ModuleNotFoundError while calling tanh() (activations.py line 18: return "
        "torch.tanh(torch.as_tensor(z)).numpy()): No module named "
        "'torch': it is not installed where your code is graded (imported at activations.py "
        "line 3)")
    (note,) = did_not_run(results["script-needs-torch"]["problems"])
    assert note.endswith("A function that uses torch fails.")


def test_files_that_import_fine_are_graded_exactly_as_sent(tmp_path: Path) -> None:
    """The sample class gets no fallback and no note: its results cannot change."""
    found = discover(REPO / "examples" / "submissions", tmp_path)
    assert all(not any(FALLBACK in m for m in s.sources) for s in found)
    assert all(s.problems == () for s in found)


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib is not installed: the stand-in is "
                    "what the class above used (see test_standins for it on its own)")
def test_an_installed_matplotlib_is_the_real_one_off_screen(tmp_path: Path) -> None:
    """With matplotlib installed, student code gets it with the Agg backend and a silent show()."""
    subs = tmp_path / "subs"
    (subs / "plotter").mkdir(parents=True)
    (subs / "plotter" / "activations.py").write_text(
        "import numpy as np\nimport matplotlib\nimport matplotlib.pyplot as plt\n"
        "BACKEND = matplotlib.get_backend()\n"
        "plt.plot([1, 2], [3, 4])\nplt.show()\nplt.figure().show()\n\n"
        "def relu(z):\n    assert BACKEND.lower() == 'agg', BACKEND\n"
        "    return np.maximum(0, z)\n")
    (result,) = grade(subs, tmp_path / "out").values()
    relu = [t for t in result["tests"] if t["function"] == "relu"]
    assert relu and all(t["outcome"] == "passed" for t in relu)
    assert not any(t["advisories"] for t in result["tests"] if t["function"] == "relu")
