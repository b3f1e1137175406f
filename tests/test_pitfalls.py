"""The course's pitfalls are data, checked when the course loads: an id a suite or detector uses
and the course does not define is an error naming the file and line, never a silent gap. A
failure names a pitfall only when it shows it (a detector, an error in code that shows what the
hint names); otherwise the feedback says what was observed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from grader import paths, pitfalls, preflight
from grader.errors import CourseError
from grader.judge import diagnosis
from grader.sandbox import standins
from grader.judge.observations import observe

ENTRY = 'misconception = "The sentence a student sees."\nhint = "What to change."\n'


def course(tmp_path: Path, shared: str, own: str = "", *, engine: bool = True) -> Path:
    """A course's exercises folder with these pitfall files (and, unless told otherwise, the
    engine's own pitfalls every course defines)."""
    exercises = tmp_path / "exercises"
    (exercises / "mse").mkdir(parents=True)
    if engine:
        shared += "".join(f"\n[{p}]\n{ENTRY}" for p in pitfalls.ENGINE_PITFALLS)
    (exercises / "pitfalls.toml").write_text(shared)
    if own:
        (exercises / "mse" / "pitfalls.toml").write_text(own)
    return exercises


def test_the_bundled_course_defines_every_pitfall_it_uses() -> None:
    preflight.verify()
    found = pitfalls.catalogue(paths.exercises_dir())
    assert len(found) == 47 and found["np_max"].hint.startswith("Write relu as np.maximum(0, z)")
    assert pitfalls.lookup("no_such_pitfall") is None


def test_an_unknown_id_in_a_suite_names_its_file_and_line(tmp_path: Path) -> None:
    exercises = course(tmp_path, f"[squared]\n{ENTRY}")
    suite = tmp_path / "test_mse.py"
    suite.write_text("import pytest\n\n\n@pytest.mark.grade(function='mse', points=1, "
                     "pitfall='squared')\ndef test_a(student):\n    pass\n\n\n"
                     "@pytest.mark.grade(function='mse', points=1, pitfall='forgot_mean')\n"
                     "def test_b(student):\n    pass\n")
    with pytest.raises(CourseError) as raised:
        pitfalls.verify(exercises, [suite])
    assert str(raised.value) == (f"{suite}:9: pitfall 'forgot_mean' is not defined in any "
                                 f"pitfalls.toml of the course ({exercises})")


def test_an_unknown_id_in_a_detector_is_found_too(tmp_path: Path) -> None:
    exercises = course(tmp_path, f"[squared]\n{ENTRY}")
    detector = tmp_path / "detectors.py"
    detector.write_text("def d(got):\n    raise PitfallDetected('sqrt_missing', 'why')\n")
    with pytest.raises(CourseError, match=r"detectors.py:2: pitfall 'sqrt_missing' is not"):
        pitfalls.verify(exercises, [detector])


@pytest.mark.parametrize("text, message", [
    ('[squared]\nmisconception = "only this"\n', "pitfall 'squared' needs exactly a non-empty"),
    (f'[Squared]\n{ENTRY}', "'Squared' is not a pitfall id"),
    (f'[squared]\n{ENTRY}extra = "x"\n', "pitfall 'squared' needs exactly"),
    ('[squared\n', "cannot read it as TOML"),
])
def test_a_broken_catalogue_is_an_error_naming_the_file(tmp_path: Path, text: str,
                                                        message: str) -> None:
    exercises = course(tmp_path, text)
    with pytest.raises(CourseError, match=message) as raised:
        pitfalls.catalogue(exercises)
    assert str(raised.value).startswith(str(exercises / "pitfalls.toml"))


def test_one_id_in_two_files_is_an_error(tmp_path: Path) -> None:
    exercises = course(tmp_path, f"[squared]\n{ENTRY}", f"[squared]\n{ENTRY}")
    with pytest.raises(CourseError, match="pitfall 'squared' is defined twice"):
        pitfalls.catalogue(exercises)


def test_a_course_must_define_the_engines_own_pitfalls(tmp_path: Path) -> None:
    exercises = course(tmp_path, "".join(f"[{p}]\n{ENTRY}" for p in
                                         pitfalls.ENGINE_PITFALLS if p != "wrong_shape"),
                       engine=False)
    with pytest.raises(CourseError, match="must define pitfall 'wrong_shape', which the grader"):
        pitfalls.verify(exercises, [])


# --- which failures may name a pitfall -----------------------------------------------------------

def test_a_marker_alone_does_not_make_a_pitfall_checkable(tmp_path: Path) -> None:
    exercises = course(tmp_path, f"[squared]\n{ENTRY}\n[forgot_mean]\n{ENTRY}")
    (exercises / "shared").mkdir()
    (exercises / "shared" / "detectors.py").write_text(
        "D = Detector(pitfall='squared', check=lambda g, e, i: None)\n")
    (exercises / "mse" / "test_mse_public.py").write_text(
        "@pytest.mark.grade(function='mse', points=1, pitfall='forgot_mean')\n"
        "def test_a(student):\n    pass\n")
    assert pitfalls.checked(exercises) == {"squared", *pitfalls.ENGINE_PITFALLS}
    assert {"np_max", "math_exp_on_array", "relu_piecewise_linear"} <= pitfalls.checked()


@pytest.fixture
def course_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled course's error patterns, registered afresh (and forgotten afterwards)."""
    monkeypatch.setattr(diagnosis, "_ERROR_PATTERNS", [])
    monkeypatch.setattr(diagnosis, "_ANSWER_DETECTORS", {})
    monkeypatch.syspath_prepend(str(paths.exercises_dir() / "shared"))
    for name in ("activation_detectors", "activation_checks"):
        path = paths.exercises_dir() / "shared" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"fresh_{name}", path)
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


AMBIGUOUS = ("ValueError: The truth value of an array with more than one element is ambiguous. "
             "Use a.any() or a.all()")
NOT_SCALAR = "TypeError: only 0-dimensional arrays can be converted to Python scalars"


@pytest.mark.usefixtures("course_errors")
@pytest.mark.parametrize("function, code, message, expected", [
    ("relu", "def relu(x):\n    return max(x, 0)", AMBIGUOUS, "python_max"),
    ("relu", "def relu(z):\n    return np.max(z, 0)", AMBIGUOUS, "np_max"),
    ("relu", "def relu(x):\n    return np.array([0 if i < 0 else i for i in x])", AMBIGUOUS,
     "branch_on_array"),
    ("leaky_relu", "def leaky_relu(z, alpha=0.01):\n    if z > 0:\n        return z", AMBIGUOUS,
     "if_on_array"),
    ("leaky_relu", "def leaky_relu(x, a=0.01):\n    if x >= 0:\n        return x", AMBIGUOUS,
     "branch_on_array"),
    ("entropy", "def entropy(ps):\n    return -np.sum([p for p in ps if p > 0])", AMBIGUOUS,
     "branch_on_array"),
    ("sigmoid", "import math\ndef sigmoid(z):\n    return 1 / (1 + math.exp(-z))", NOT_SCALAR,
     "math_exp_on_array"),
    ("sigmoid", "import math\ndef sigmoid(x):\n    return 1/1 + math.pow(e, -x)", NOT_SCALAR,
     "math_on_array"),
    ("entropy", "from math import log2\ndef entropy(p):\n    return -sum(log2(q) for q in p)",
     "ValueError: math domain error", "math_on_array"),
    ("sigmoid", "def sigmoid(z):\n    return 1 / (1 + float(z))", NOT_SCALAR, None),
    ("softmax", "def softmax(x):\n    return e / np.sum(e, axis=1, keepdims=True)",
     "AxisError: axis 1 is out of bounds for array of dimension 1", "softmax_axis_on_vector"),
    ("entropy", "def entropy(p):\n    return -np.sum(p * np.log(p), axis=1)",
     "AxisError: axis 1 is out of bounds for array of dimension 1", "axis_out_of_bounds"),
    ("softmax", "def softmax(x):\n    return e / np.sum(e, axis=-1)",
     "ValueError: operands could not be broadcast together with shapes (2,3) (2,)",
     "keepdims_broadcast"),
    ("collapse_linear", "def collapse_linear(W1, b1, W2, b2):\n    return W1 @ W2, b1 + b2",
     "ValueError: operands could not be broadcast together with shapes (4,) (2,)",
     "collapse_bias"),
])
def test_an_error_names_a_pitfall_only_where_the_code_shows_it(
        function: str, code: str, message: str, expected: str | None) -> None:
    assert diagnosis.diagnose_error(message, function, "exception", code) == expected


def test_the_function_s_own_patterns_come_before_the_general_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diagnosis, "_ERROR_PATTERNS", [])
    diagnosis.recognise_errors(diagnosis.ErrorPattern("broadcast", pitfall="general"),
                               diagnosis.ErrorPattern("broadcast", pitfall="own", function="f"))
    assert diagnosis.diagnose_error("broadcast", "f") == "own"
    assert diagnosis.diagnose_error("broadcast", "g") == "general"


def test_the_code_read_is_the_function_and_the_imports() -> None:
    source = ("import math\nfrom numpy import exp\n\ndef a(x):\n    return math.exp(x)\n\n"
              "def b(x):\n    return exp(x)\n")
    assert diagnosis.function_code(source, "b") == (
        "import math\nfrom numpy import exp\ndef b(x):\n    return exp(x)")
    assert diagnosis.function_code(source, "missing") == source


def test_a_quoted_line_is_the_one_the_compiler_counted() -> None:
    # Line 7 to the compiler; str.splitlines also breaks at the form feed, and its line 7 is blank.
    source = "import math\n\x0c\n\ndef f(x):\n    y = 0\n\n    return math.exp(x)\n"
    assert standins.compiler_lines(source)[6] == "    return math.exp(x)\n"
    assert standins.compiler_lines("a\r\nb\rc\n\x0cd") == ["a\r\n", "b\r", "c\n", "\x0cd"]


# --- what is said when nothing is recognised -------------------------------------------------------

Z = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
SIG = 1 / (1 + np.exp(-Z))
ROWS = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])


@pytest.mark.parametrize("got, expected, inp, words", [
    (1 - SIG, SIG, Z, "mirrored: each is 1 - expected"),
    (-SIG, SIG, Z, "opposite sign"),
    (1 / SIG, SIG, Z, "1 / expected"),
    (2 * SIG, SIG, Z, "constant factor of 2"),
    (SIG + 0.5, SIG, Z, "constant 0.5"),
    (ROWS + [[0.1, 0, 0], [0, 0, 0.2]], ROWS, ROWS, "do not sum to 1 (sums 1.1, 1.2)"),
    (ROWS / ROWS.sum(axis=0), ROWS, ROWS, "Wrong axis: the columns sum to 1"),
    (np.exp(ROWS * 9) / np.exp(ROWS * 9).sum(), np.exp(ROWS * 9) / np.exp(ROWS * 9).sum(
        axis=-1, keepdims=True), ROWS, "The whole array sums to 1"),
    (np.array([0.0]), np.array(0.0), np.array(-2.5), "Returned shape (1,) for a 0-d input"),
    (np.array([np.nan, 0.5, np.nan]), np.array([0.0, 0.5, 1.0]), np.array([-800.0, 0.0, 900.0]),
     "nan where the inputs are large"),
    (np.where(Z < 0, 0.1 * Z, Z), np.where(Z < 0, 0.01 * Z, Z), Z,
     "Only the entries where the input is negative are wrong"),
])
def test_a_wrong_answer_is_described_by_what_it_has_in_common_with_the_expected_one(
        got: np.ndarray, expected: np.ndarray, inp: np.ndarray, words: str) -> None:
    seen = observe(got.astype(float), expected.astype(float), inp)
    assert words in seen.text
    # Hidden tests never show values of their inputs or answers.
    assert "(" not in seen.plain.replace("(1,)", "") and seen.text.startswith(seen.plain[:-1])


def test_nothing_is_said_when_nothing_simple_relates_the_answers() -> None:
    rng = np.random.default_rng(0)
    assert observe(rng.uniform(0, 1, 5), SIG, Z) == ("", "")
