"""A failure message shows the input as the student's function was given it.

The proxy mirrors a student's in-place change back into the test's array (so expect_unchanged
sees it); the comparison helpers must still show, and give their detectors, the array as it
was passed, not what the function left in it.
"""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import paths
from grader.judge import proxy
from grader.judge.checks import Detector, expect_array, expect_true
from grader.judge.errors import PitfallDetected
from grader.records import CallResult

# The reference's body, replaced by one that writes into z: an int z truncates alpha * z.
REFERENCE_BODY = """    x = np.asarray(z, dtype=np.float64)
    return np.where(x > 0, x, alpha * x)
"""
IN_PLACE = """    z[z < 0] = alpha * z[z < 0]
    return z
"""
# The same, ignoring alpha: right for float z with the default alpha only.
IN_PLACE_FIXED_ALPHA = """    z[z < 0] = 0.01 * z[z < 0]
    return z
"""


def _submission(folder: Path, body: str) -> None:
    source = (paths.reference_dir() / "leaky_relu.py").read_text(encoding="utf-8")
    assert REFERENCE_BODY in source, "the reference changed: update REFERENCE_BODY"
    folder.mkdir(parents=True)
    (folder / "leaky_relu.py").write_text(source.replace(REFERENCE_BODY, body), encoding="utf-8")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("class")
    _submission(base / "ints", IN_PLACE)
    _submission(base / "alpha", IN_PLACE_FIXED_ALPHA)
    out = tmp_path_factory.mktemp("out") / "out"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "grade"), str(base), "--out", str(out),
         "--exercise", "leaky_relu", "--jobs", "1", "--no-plots", "--quiet"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def _test(out: Path, sid: str, name: str) -> dict[str, Any]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    sub = next(s for s in data["submissions"] if s["id"] == sid)
    found: dict[str, Any] = next(t for t in sub["tests"] if t["id"].endswith(name))
    return found


def _input_line(message: str) -> str:
    (line,) = [ln for ln in message.splitlines() if ln.strip().startswith("input:")]
    # array2string pads entries to one width; the spacing is not what is being checked.
    return re.sub(r"\s+", " ", line).strip()


def test_visible_failure_shows_the_integer_input_as_passed(graded: Path) -> None:
    test = _test(graded, "ints", "::test_leaky_relu_lesson_example")
    assert test["outcome"] == "failed" and test["pitfall"] == "leaky_int_truncation"
    assert _input_line(test["message"]) == "input: z = [-3, -1, 0, 1, 3] (int64)"
    assert "got: [0, 0, 0, 1, 3]" in re.sub(r"\s+", " ", test["message"])


def test_hidden_failure_shows_the_input_as_passed(graded: Path) -> None:
    test = _test(graded, "ints", "test_leaky_relu::test_leaky_relu_integer_input")
    assert test["outcome"] == "failed"
    assert _input_line(test["message"]) == "input: z = [-3, -1, 0, 1, 3] (int64)"


def test_the_change_in_place_is_still_seen(graded: Path) -> None:
    test = _test(graded, "ints", "test_leaky_relu::test_leaky_relu_any_shape")
    assert test["outcome"] == "failed" and test["pitfall"] == "modifies_input"
    assert "changed its argument in place" in test["message"]


def test_detectors_are_given_the_arguments_as_passed(graded: Path) -> None:
    # Only the input as passed tells alpha = 0.01 apart: z after the call was already scaled.
    test = _test(graded, "alpha", "::test_leaky_relu_uses_alpha")
    assert test["outcome"] == "failed" and test["pitfall"] == "leaky_ignores_alpha"
    assert "although alpha = 0.2 was passed" in test["message"]
    assert _input_line(test["message"]) == "input: z = [-3., -1., 0., 1., 3.] (float64), alpha = 0.2"


def test_feedback_page_shows_the_input_as_passed(graded: Path) -> None:
    page = (graded / "ints" / "feedback.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", page)
    assert "z = [-3, -1, 0, 1, 3] (int64)" in text
    assert "z = [0, 0, 0, 1, 3]" not in text


class _Session:
    """Stands in for a sandbox session: the 'student' halves its first argument in place."""

    def call(self, module: str, function: str, args: tuple[object, ...],
             kwargs: dict[str, object]) -> CallResult:
        z = np.asarray(args[0])
        after = z // 2 if function == "halve" else z.copy()
        return CallResult(ok=True, value=after.astype(float), after=(after,))


def _student() -> proxy.StudentModule:
    return proxy.StudentModule(_Session(), "m", lambda _: None)  # type: ignore[arg-type]


def test_proxy_mirrors_the_change_and_keeps_the_array_as_passed() -> None:
    z = np.array([4, 8])
    _student().halve(z)
    assert z.tolist() == [2, 4]
    assert np.asarray(proxy.as_passed(z)).tolist() == [4, 8]
    shown = proxy.as_passed({"z": z, "k": 3})
    assert isinstance(shown, dict) and shown["z"].tolist() == [4, 8] and shown["k"] == 3
    untouched = {"z": np.array([1]), "k": 3}
    assert proxy.as_passed(untouched) is untouched


def test_a_later_call_given_the_changed_array_shows_it_as_it_now_is() -> None:
    z = np.array([4, 8])
    student = _student()
    student.halve(z)
    student.keep(z)
    assert proxy.as_passed(z) is z


def test_records_go_with_their_arrays() -> None:
    z = np.array([4, 8])
    _student().halve(z)
    key = id(z)
    assert key in proxy._PASSED
    del z
    gc.collect()
    assert key not in proxy._PASSED


def test_helpers_show_and_diagnose_the_input_as_passed() -> None:
    z = np.array([4, 8])
    got = _student().halve(z)
    seen: list[object] = []

    def check(got: object, expected: object, inp: object) -> str | None:
        seen.append(np.asarray(inp).tolist())
        return "halved"

    with pytest.raises(PitfallDetected) as raised:
        expect_array(got, [4.0, 8.0], inp=z, what="f(z)", diagnose=[Detector("p", check)])
    assert seen == [[4, 8]]
    assert "input:    z = [4, 8] (int64)" in str(raised.value)
    with pytest.raises(AssertionError, match=re.escape("z = [4, 8] (int64), k = 1")):
        expect_true(False, "wrong", inp={"z": z, "k": 1})
