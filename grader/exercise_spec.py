"""What an exercise declares beside its stub: its feedback plots and its loop advisories.

Each exercise may have an `exercises/<exercise>/exercise.toml`; an exercise without one has no
plots and no advisories. For example:

    [[plots]]
    function = "scaled"                # a function of the exercise's module
    kind = "line"                      # line: y against x; bars: one bar per entry of the output
    x = {logspace = [-2, 2, 17]}       # or [1.0, 2.0, 3.0], or {linspace = [-6, 6, 61]}
    args = [[1.0, 2.0, 3.0]]           # the call's other positional arguments; x comes after
                                       # them (x_position = 0 puts it first)
    each = true                        # one call per x value, not one on the whole array
    transform = "course_plots:spread"  # exercises/shared/course_plots.py: outputs -> y values
    x_label = "scale"
    y_label = "spread"

    [loop_advisories]
    square = "z * z"                   # what to write instead of a Python loop

A transform receives the outputs (stacked, one row per x value, when `each`; else the one output)
and returns the plotted y values, one per x value. An x axis is logarithmic when `log_x` is true,
which is the default for a logspace. Everything is checked when the file is read: an unknown key,
a wrong type, a function the exercise's stub does not define, a transform whose module is not in
exercises/shared/ are CourseErrors that name the file and the key.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from grader import course, paths
from grader.course import read_toml
from grader.errors import CourseError
from grader.handout import SHARED_FOLDER as SHARED

FILE_NAME = "exercise.toml"
"""The folder of exercises/ that holds the course's own Python modules (transforms)."""
MAX_POINTS = 1000
"""Most x values a plot may sample: every one is a call into student code, per student."""

PlotKind = Literal["line", "bars"]
Spacing = Literal["values", "linspace", "logspace"]
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_TRANSFORM = re.compile(rf"{_NAME}(?:\.{_NAME})*:{_NAME}")
_PLOT_KEYS = ("function", "kind", "x", "args", "x_position", "each", "transform", "x_label",
              "y_label", "log_x")
_TOP_KEYS = ("plots", "loop_advisories", "stub_points")


@dataclass(frozen=True)
class Grid:
    """The x values a plot samples, as the course wrote them."""

    spacing: Spacing
    """values: the numbers listed; linspace or logspace: NumPy's, from start, stop and count."""
    values: tuple[float, ...] = ()
    """The numbers listed (spacing 'values')."""
    start: float = 0.0
    """First point (its exponent, for logspace)."""
    stop: float = 0.0
    """Last point (its exponent, for logspace)."""
    count: int = 0
    """How many points (linspace, logspace)."""


@dataclass(frozen=True)
class PlotSpec:
    """One plot of a feedback page: which function, called how, drawn how."""

    exercise: str
    """Exercise module the function lives in."""
    function: str
    """Function name, e.g. 'square'."""
    kind: PlotKind
    """line: the values against x; bars: one bar per entry of the values."""
    x: Grid
    """The x values: the input the function is sampled on."""
    args: tuple[object, ...] = ()
    """The call's other positional arguments; a tuple stands for an array of floats."""
    x_position: int = 0
    """Where x goes among the positional arguments."""
    each: bool = False
    """One call per x value (passed as a number) instead of one call on the whole array."""
    transform: str = ""
    """'module:function' in exercises/shared/ turning the outputs into y values; '' for none."""
    x_label: str = "x"
    """The x axis's name (bars: what one bar stands for)."""
    y_label: str = ""
    """The y axis's name."""
    log_x: bool = False
    """Whether the x axis is logarithmic (line plots)."""
    source: Path = Path()
    """The exercise.toml that declares it."""

    @property
    def name(self) -> str:
        """Key of its reference curve in a student's wheel, e.g. 'powers/square/line'."""
        return f"{self.exercise}/{self.function}/{self.kind}"

    @property
    def shared(self) -> Path:
        """The folder its transform's module is in."""
        return self.source.parent.parent / SHARED


@dataclass(frozen=True)
class ExerciseSpec:
    """What one exercise.toml declares."""

    exercise: str
    """Exercise module stem."""
    plots: tuple[PlotSpec, ...] = ()
    """Its feedback plots, in the order the file lists them."""
    loop_advice: tuple[tuple[str, str], ...] = ()
    """(function, what to write instead) for each function a Python loop is not needed in."""
    stub_points: float = 0.0
    """Points the handout's stub earns as it is: 0, unless the stub is a program to debug that
    already passes some tests (checked by `grade course check`)."""


def specs(root: Path | None = None) -> tuple[ExerciseSpec, ...]:
    """Every exercise's declarations, in the course's order (the course in use by default)."""
    return _load(root if root is not None else paths.course_root())


def plots(root: Path | None = None) -> tuple[PlotSpec, ...]:
    """Every plot of the course, exercise by exercise."""
    return tuple(p for spec in specs(root) for p in spec.plots)


def loop_advice(root: Path | None = None) -> dict[tuple[str, str], str]:
    """(exercise, function) -> what to write instead of a Python loop."""
    return _advice(root if root is not None else paths.course_root())


def plot_for(exercise: str, function: str, kind: str) -> PlotSpec | None:
    """The course's plot of `function` drawn as `kind`, if it declares one (at most one)."""
    return _by_key(paths.course_root()).get((exercise, function, kind))


@functools.cache
def _load(root: Path) -> tuple[ExerciseSpec, ...]:
    found = []
    for exercise in course.load(root).exercises:
        path = root / "exercises" / exercise / FILE_NAME
        found.append(read(path, exercise) if path.is_file() else ExerciseSpec(exercise))
    return tuple(found)


@functools.cache
def _advice(root: Path) -> dict[tuple[str, str], str]:
    return {(spec.exercise, name): text for spec in _load(root) for name, text in spec.loop_advice}


@functools.cache
def _by_key(root: Path) -> dict[tuple[str, str, str], PlotSpec]:
    return {(p.exercise, p.function, p.kind): p for p in plots(root)}


def read(path: Path, exercise: str) -> ExerciseSpec:
    """One exercise.toml, checked; CourseError naming the file and the key at fault."""
    data = read_toml(path)
    for key in data:
        if key not in _TOP_KEYS:
            raise CourseError(f"{path}: '{key}' is not a key of {FILE_NAME} (it may hold "
                              f"{' and '.join(_TOP_KEYS)})")
    defined = _stub_functions(path.parent / f"{exercise}.py")
    raw_plots = data.get("plots", [])
    if not isinstance(raw_plots, list) or not all(isinstance(p, dict) for p in raw_plots):
        raise CourseError(f"{path}: plots must be an array of tables ([[plots]])")
    found = tuple(_plot(path, exercise, n, entry, defined) for n, entry in enumerate(raw_plots))
    # A curve finds its plot (its axes, its reference values in a student's wheel) by exercise,
    # function and kind: two plots sharing them could not be told apart.
    seen: set[tuple[str, str]] = set()
    for n, plot in enumerate(found):
        if (plot.function, plot.kind) in seen:
            raise CourseError(f"{path}: plots[{n}]: a second {plot.kind} plot of "
                              f"{plot.function}() (one of each kind per function)")
        seen.add((plot.function, plot.kind))
    stub_points = data.get("stub_points", 0)
    if isinstance(stub_points, bool) or not isinstance(stub_points, (int, float)) or stub_points < 0:
        raise CourseError(f"{path}: stub_points must be a number of points, 0 or more")
    return ExerciseSpec(exercise, found, _loop_advice(path, data.get("loop_advisories", {}),
                                                      defined), float(stub_points))


def _loop_advice(path: Path, table: object, defined: set[str] | None
                 ) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict):
        raise CourseError(f"{path}: loop_advisories must be a table of function = \"advice\"")
    for name, text in table.items():
        where = f"{path}: loop_advisories.{name}"
        if not isinstance(text, str) or not text.strip():
            raise CourseError(f"{where}: must be a non-empty string (what to write instead)")
        _check_function(where, name, defined, path)
    return tuple(table.items())


def _plot(path: Path, exercise: str, n: int, entry: dict[str, object],
          defined: set[str] | None) -> PlotSpec:
    where = f"{path}: plots[{n}]"
    for key in entry:
        if key not in _PLOT_KEYS:
            raise CourseError(f"{where}.{key}: not a key of a plot (it may have "
                              f"{', '.join(_PLOT_KEYS)})")
    for key in ("function", "kind", "x"):
        if key not in entry:
            raise CourseError(f"{where}.{key}: missing (a plot needs function, kind and x)")
    function = _text(where, entry, "function", "")
    _check_function(f"{where}.function", function, defined, path)
    kind = entry["kind"]
    if kind not in ("line", "bars"):
        raise CourseError(f"{where}.kind: {kind!r} is not a kind of plot (line or bars)")
    grid = _grid(f"{where}.x", entry["x"])
    args = _args(f"{where}.args", entry.get("args", []))
    position = entry.get("x_position", len(args))
    if isinstance(position, bool) or not isinstance(position, int) or not (
            0 <= position <= len(args)):
        raise CourseError(f"{where}.x_position: must be a whole number from 0 to {len(args)}")
    x_label = _text(where, entry, "x_label", "x" if kind == "line" else "entry")
    y_label = _text(where, entry, "y_label", f"{function}({x_label})" if kind == "line"
                    else "value")
    log_x = _flag(where, entry, "log_x", kind == "line" and grid.spacing == "logspace")
    if log_x and (kind != "line" or not _positive(grid)):
        raise CourseError(f"{where}.log_x: a log axis needs a line plot and positive x values")
    return PlotSpec(exercise, function, kind, grid, args, position,
                    _flag(where, entry, "each", False), _transform(where, entry, path),
                    x_label, y_label, log_x, path)


def _text(where: str, entry: dict[str, object], key: str, default: str) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or not value.strip() or len(value) > 80:
        raise CourseError(f"{where}.{key}: must be a non-empty string of at most 80 characters")
    return value


def _flag(where: str, entry: dict[str, object], key: str, default: bool) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise CourseError(f"{where}.{key}: must be true or false")
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _grid(where: str, value: object) -> Grid:
    if isinstance(value, list):
        if not value or len(value) > MAX_POINTS or not all(_is_number(v) for v in value):
            raise CourseError(f"{where}: must list 1 to {MAX_POINTS} numbers")
        return Grid("values", tuple(float(cast(float, v)) for v in value))
    if isinstance(value, dict) and len(value) == 1:
        (spacing, bounds), = value.items()
        if spacing in ("linspace", "logspace"):
            if (isinstance(bounds, list) and len(bounds) == 3 and _is_number(bounds[0])
                    and _is_number(bounds[1]) and isinstance(bounds[2], int)
                    and not isinstance(bounds[2], bool) and 1 <= bounds[2] <= MAX_POINTS):
                return Grid(cast(Spacing, spacing), (), float(bounds[0]), float(bounds[1]),
                            bounds[2])
            raise CourseError(f"{where}.{spacing}: must be [start, stop, count] with a whole "
                              f"count from 1 to {MAX_POINTS}")
    raise CourseError(f"{where}: must be a list of numbers, {{linspace = [start, stop, count]}} "
                      "or {logspace = [start, stop, count]}")


def _positive(grid: Grid) -> bool:
    """Whether every x value is above 0 (a logspace's always are)."""
    if grid.spacing == "values":
        return all(v > 0 for v in grid.values)
    return grid.spacing == "logspace" or min(grid.start, grid.stop) > 0


def _args(where: str, value: object) -> tuple[object, ...]:
    if not isinstance(value, list):
        raise CourseError(f"{where}: must be a list of the call's other arguments")
    return tuple(_argument(f"{where}[{n}]", item) for n, item in enumerate(value))


def _argument(where: str, value: object) -> object:
    """A number, a string or a boolean as it is; a list of numbers (or of such lists) as nested
    tuples, which the plots pass as a float array."""
    if isinstance(value, (int, float, str)):
        return value
    if isinstance(value, list) and value:
        items = tuple(_argument(where, item) for item in value)
        if all(_is_number(i) for i in items) or all(isinstance(i, tuple) for i in items):
            return items
    raise CourseError(f"{where}: must be a number, a string, true, false or a (nested) list of "
                      "numbers")


def _transform(where: str, entry: dict[str, object], path: Path) -> str:
    value = entry.get("transform", "")
    if value == "":
        return ""
    if not isinstance(value, str) or not _TRANSFORM.fullmatch(value):
        raise CourseError(f"{where}.transform: must be 'module:function' (a module of "
                          f"exercises/{SHARED}/)")
    module = path.parent.parent / SHARED / value.split(":")[0].replace(".", "/")
    if not (module.with_suffix(".py").is_file() or (module / "__init__.py").is_file()):
        raise CourseError(f"{where}.transform: exercises/{SHARED}/ has no module "
                          f"'{value.split(':')[0]}'")
    return value


def _stub_functions(stub: Path) -> set[str] | None:
    """The functions the exercise's stub defines; None when there is no stub to read."""
    try:
        tree = ast.parse(stub.read_text(encoding="utf-8"), str(stub))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def _check_function(where: str, name: str, defined: set[str] | None, path: Path) -> None:
    if not re.fullmatch(_NAME, name):
        raise CourseError(f"{where}: '{name}' is not a function name")
    if defined is not None and name not in defined:
        raise CourseError(f"{where}: '{name}' is not a function of the exercise's stub "
                          f"({path.parent.name}/{path.parent.name}.py)")
