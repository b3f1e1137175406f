"""exercise.toml: the plots and loop advisories an exercise declares, read and checked as data."""

from __future__ import annotations

import json
import math
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import exercise_spec, paths
from grader.judge import plots, style
from grader.errors import CourseError
from grader.records import CallResult, Curve
from grader.reports import curves, svg
from grader.reports.results_json import dict_to_run

STUB = "def square(z):\n    raise NotImplementedError\n\ndef cube(z):\n    return z ** 3\n"
SPREAD = '''
import numpy as np

def spread(rows):
    """Largest minus smallest entry of each row."""
    return np.ptp(np.asarray(rows, dtype=float), axis=-1)
'''
TRANSFORMED = '''
[[plots]]
function = "square"
kind = "line"
args = [[1.0, 2.0, 3.0]]
x = {logspace = [0, 1, 3]}
each = true
transform = "course_plots:spread"
x_label = "factor"
y_label = "spread"
'''


def make_course(root: Path, spec: str | None = None, shared: str = SPREAD) -> Path:
    """A course of one exercise, 'powers', with `spec` as its exercise.toml (None: none)."""
    (root / "exercises" / "powers").mkdir(parents=True)
    (root / "exercises" / "shared").mkdir()
    (root / "course.toml").write_text('[course]\ntitle = "Powers"\nexercises = ["powers"]\n')
    (root / "exercises" / "powers" / "powers.py").write_text(STUB)
    (root / "exercises" / "shared" / "course_plots.py").write_text(shared)
    if spec is not None:
        (root / "exercises" / "powers" / exercise_spec.FILE_NAME).write_text(spec)
    return root


def reference_module() -> types.ModuleType:
    """The reference of 'powers': square(z, k) scales z by k before squaring."""
    module = types.ModuleType("powers_reference")
    module.square = lambda z, k=1.0: (np.asarray(z, dtype=float) * k) ** 2  # type: ignore[attr-defined]
    return module


class FakeSession:
    """The part of a sandbox session plots.sample uses, answering with a local function."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.sources = {"powers": "..."}
        self.function = function

    def call_many(self, *args: object) -> None:
        return None  # no batch: the plot asks call by call

    def call(self, module: str, function: str, args: tuple[object, ...],
             kwargs: dict[str, object]) -> CallResult:
        return CallResult(True, self.function(*args))


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], Path]:
    """Makes a course and makes it the one in use."""
    def use(spec: str | None, shared: str = SPREAD) -> Path:
        root = make_course(tmp_path / f"course{len(list(tmp_path.iterdir()))}", spec, shared)
        monkeypatch.setenv(paths.COURSE_VARIABLE, str(root))
        return root
    return use


def test_the_bundled_course_declares_its_plots_and_advisories() -> None:
    found = {(p.exercise, p.function, p.kind): p for p in exercise_spec.plots()}
    temperature = found[("scaling", "softmax_temperature", "line")]
    assert (temperature.x_label, temperature.y_label, temperature.log_x) == (
        "temperature", "entropy", True)
    assert temperature.transform and temperature.each
    assert found[("activations", "softmax", "bars")].x_label == "class"
    assert len(exercise_spec.loop_advice()) == 9


@pytest.mark.parametrize(("text", "key"), [
    ("[[plot]]\nfunction = 'square'", "'plot' is not a key"),
    ("[[plots]]\nfunction = 'square'\nkind = 'pie'\nx = [1]", "plots[0].kind"),
    ("[[plots]]\nfunction = 'square'\nkind = 'line'", "plots[0].x: missing"),
    ("[[plots]]\nfunction = 'square'\nkind = 'line'\nx = {linspace = [0, 1]}",
     "plots[0].x.linspace"),
    ("[[plots]]\nfunction = 'square'\nkind = 'line'\nx = [1, 'two']", "plots[0].x"),
    ("[[plots]]\nfunction = 'square'\nkind = 'line'\nx = [1]\ncolour = 'red'",
     "plots[0].colour"),
    ("[[plots]]\nfunction = 'sqaure'\nkind = 'line'\nx = [1]", "plots[0].function"),
    ("[[plots]]\nfunction = 'square'\nkind = 'line'\nx = [1]\nx_position = 2",
     "plots[0].x_position"),
    ("[[plots]]\nfunction = 'square'\nkind = 'line'\nx = [1]\ntransform = 'nowhere:f'",
     "plots[0].transform"),
    ("[[plots]]\nfunction = 'square'\nkind = 'line'\nx = [-1, 1]\nlog_x = true",
     "plots[0].log_x"),
    ("[[plots]]\nfunction = 'square'\nkind = 'line'\nx = [1]\neach = 'yes'", "plots[0].each"),
    ("[[plots]]\nfunction = 'square'\nkind = 'line'\nx = [1]\n"
     "[[plots]]\nfunction = 'square'\nkind = 'line'\nx = [2]", "plots[1]"),
    ("[loop_advisories]\nsquare = ''", "loop_advisories.square"),
    ("[loop_advisories]\nquartic = 'z ** 4'", "loop_advisories.quartic"),
    ("[[plots]\n", "cannot read it as TOML"),
])
def test_a_broken_spec_names_its_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    root = make_course(tmp_path, text)
    with pytest.raises(CourseError) as caught:
        exercise_spec.specs(root)
    message = str(caught.value)
    assert str(root / "exercises" / "powers" / exercise_spec.FILE_NAME) in message
    assert key in message, message


def test_a_course_without_specs_has_no_plots_and_no_advisories(
        course: Callable[[str | None], Path]) -> None:
    course(None)
    assert exercise_spec.plots() == () and exercise_spec.loop_advice() == {}
    assert plots.planned_calls(("powers",)) == []
    session = FakeSession(lambda z: z)
    assert plots.sample(session, lambda _: reference_module(), ("powers",)) == []  # type: ignore[arg-type]
    assert style.loop_advisories({"powers": "def square(z):\n    return [v for v in z]\n"}) == {}


def test_a_transformed_plot_samples_each_x_and_plots_the_course_function(
        course: Callable[[str | None], Path]) -> None:
    root = course(TRANSFORMED)
    (spec,) = exercise_spec.plots()
    assert spec.log_x and plots.planned_calls(("powers",))[0][2][1] == 1.0
    # square([1, 2, 3], k) = [k^2, 4k^2, 9k^2]: its spread is 8 k^2, at k = 1, sqrt(10), 10.
    expected = (8.0, 80.0, 800.0)
    x, reference = plots.reference_curves(lambda _: reference_module(), root)["powers/square/line"]
    assert x == pytest.approx((1.0, math.sqrt(10), 10.0), rel=1e-5)
    assert reference == pytest.approx(expected, rel=1e-5)
    halved = FakeSession(lambda z, k: (np.asarray(z) * k) ** 2 / 2)
    (curve,) = plots.sample(halved, lambda _: reference_module(), ("powers",))  # type: ignore[arg-type]
    assert curve["kind"] == "line" and curve["student"] == pytest.approx((4.0, 40.0, 400.0))
    scalar = FakeSession(lambda z, k: float(k))
    (curve,) = plots.sample(scalar, lambda _: reference_module(), ("powers",))  # type: ignore[arg-type]
    assert curve["student"] is None and curve["note"] == "square() returned the wrong shape"


def test_the_transform_is_each_course_own(course: Callable[..., Path]) -> None:
    """Two courses with a shared module of one name each get their own function."""
    first = course(TRANSFORMED)
    one = plots.reference_curves(lambda _: reference_module(), first)["powers/square/line"]
    second = course(TRANSFORMED, shared="def spread(rows):\n    return rows.sum(axis=-1)\n")
    two = plots.reference_curves(lambda _: reference_module(), second)["powers/square/line"]
    assert one[1] == pytest.approx((8.0, 80.0, 800.0), rel=1e-5)
    assert two[1] == pytest.approx((14.0, 140.0, 1400.0), rel=1e-5)


def test_pages_draw_the_course_labels(course: Callable[[str | None], Path]) -> None:
    course(TRANSFORMED + '\n[[plots]]\nfunction = "cube"\nkind = "bars"\nx = [1.0, 2.0]\n'
           'x_label = "box"\ny_label = "volume"\n')
    line = Curve("powers", "square", "line", (1.0, 10.0), (8.0, 800.0), (8.0, 1.0))
    markup, said = svg.chart(line, "p0")
    assert ">factor (log axis)</text>" in markup and ">spread</text>" in markup
    assert said == "Your values differ from the reference at factor 10."
    bars = Curve("powers", "cube", "bars", (0.0, 1.0), (1.0, 8.0), (2.0, 16.0))
    markup, said = svg.chart(bars, "p1")
    assert "cube: volume per box, yours next to the reference" in markup
    assert said == "Your values differ from the reference for boxes 0 to 1."
    unknown = Curve("powers", "other", "line", (0.0, 1.0), (0.0, 1.0), None)
    assert curves.axes_of(unknown) == curves.Axes("x", "other(x)", False)


def test_results_json_with_a_curve_kind_of_old_is_refused() -> None:
    """Plot kinds are line and bars now: an earlier run's results.json holding another kind is
    not read as if it were current."""
    curve = {"exercise": "e", "function": "f", "kind": "spiral", "x": [0.1, 1.0],
             "reference": [0.0, 1.0], "student": None, "note": ""}
    data = {"grader_version": "0", "seed": 0, "isolation": "", "warnings": [], "submissions": [
        {"id": "a", "status": "graded", "error": None, "score": 0, "max_score": 0,
         "problems": [], "tests": [], "curves": [curve]}]}
    with pytest.raises(ValueError, match="kind is 'spiral', expected one of"):
        dict_to_run(json.loads(json.dumps(data)))
