"""Turn a student's Jupyter notebook into the exercise modules the grader imports."""

from __future__ import annotations

import ast
import functools
import json
import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from grader import course, paths, pruning, scopes
from grader.sandbox.standins import DISPLAY_ONLY, cell_marker

#: Notebooks carry their outputs (plots as base64 images), so they get a larger cap than sources.
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024

# Cell magics whose body is ordinary Python that ran in the kernel, so the body is kept.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_TALKING = ("print()", "input()", "display()")
_DEF_LINE = re.compile(r"^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)", re.MULTILINE)


class NotebookError(ValueError):
    """The file is not a notebook the grader can read; the message says why."""


def code_cells(data: bytes) -> list[tuple[int, str]]:
    """Parse nbformat-4 JSON and return (1-based cell position, source) for every code cell."""
    notebook = _load_json(data)
    if not isinstance(notebook, dict):
        raise NotebookError("the file does not hold a JSON object")
    version = notebook.get("nbformat")
    if version is None:
        raise NotebookError("it has no nbformat version, so it is not a Jupyter notebook")
    if version != 4 or isinstance(version, bool):
        raise NotebookError(f"it uses nbformat {_short(version)}, but only nbformat 4 is supported")
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("it has no list of cells")
    found: list[tuple[int, str]] = []
    for position, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {position} is not a JSON object")
        if cell.get("cell_type") == "code":
            found.append((position, _cell_source(cell.get("source"), position)))
    return found


def clean_cell(source: str) -> tuple[str, int]:
    """Remove IPython magics and shell lines from one cell; return the code and lines dropped."""
    first, _, body = source.lstrip().partition("\n")
    if first.startswith("%%"):
        if _keeps_body(first):
            cleaned, dropped = clean_cell(body)
            return cleaned, dropped + 1
        return "", _count_lines(source)
    if _parses(source):
        # Valid Python never needs cleaning; this also protects a '%' that continues an expression.
        return source, 0
    lines = source.split("\n")
    dropped = 0
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            # 'pass' at the same indent keeps the block valid and every later line number unchanged.
            lines[index] = line[: len(line) - len(stripped)] + "pass"
            dropped += 1
    return "\n".join(lines), dropped


def defined_names(source: str) -> set[str]:
    """Names a cell binds at top level with def (or name = lambda ...), even if it cannot parse."""
    tree = scopes.parse(source)
    if tree is None:
        # A broken cell still counts: its module is built so the student sees the SyntaxError.
        return set(_DEF_LINE.findall(source))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def exercise_functions() -> dict[str, tuple[str, ...]]:
    """Exercise module -> the functions students write for it, read (not run) from the course
    material: the reference module's public functions that a suite calls on the student (a
    helper the reference defines for itself is not one), or, where the reference is not
    shipped (the students' wheel), the functions of the exercise's stub."""
    return _functions_of(paths.course_root())


@functools.cache
def _functions_of(root: Path) -> dict[str, tuple[str, ...]]:
    """exercise_functions() of the course at root (read once per course)."""
    table: dict[str, tuple[str, ...]] = {}
    for exercise in course.load(root).exercises:
        folder = paths.exercises_dir() / exercise
        names = _graded_in_reference(exercise) or _public_functions(folder / f"{exercise}.py")
        if names:
            table[exercise] = names
    return table


def notebook_modules(
    name: str,
    data: bytes,
    functions: Mapping[str, tuple[str, ...]] | None = None,
    available: Callable[[str], bool] = pruning.installed,
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Split a notebook into exercise modules; return module -> source and notes for the student.

    A module is supplied when the notebook defines one of its functions (`functions`, by default
    exercise_functions()). Every module gets the same code: the notebook's cells in order with
    only what the graded functions need (see grader.pruning): imports, helpers and constants
    from any cell, but no plots, prints, input() or experiments. `available(module)` says
    whether the sandbox can import a module (see pruning.installed).
    """
    table = exercise_functions() if functions is None else functions
    graded = {f for names in table.values() for f in names}
    cells = _Cells(name)
    for position, source in code_cells(data):
        cells.add(position, source, graded)
    code = "\n".join(cells.parts)
    modules = {module: code for module, names in table.items() if cells.defined & set(names)}
    if not modules:
        return modules, cells.notes(None)
    pruned = pruning.prune(code, graded & cells.defined, lambda top: top in DISPLAY_ONLY or
                           top in table or available(top), cells.where)
    if pruned is None:
        return modules, cells.notes(None)
    return dict.fromkeys(modules, pruned.source), cells.notes(pruned)


class _Cells:
    """A notebook's code cells joined into one module, with what was dropped on the way."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parts: list[str] = []
        self.defined: set[str] = set()
        self.markers: list[int] = []  # the module line of each cell's marker
        self.positions: list[int] = []  # the cell each marker starts
        self.magics = 0
        self.broken: list[int] = []
        self.line = 1

    def add(self, position: int, source: str, graded: set[str]) -> None:
        """Append one cell, cleaned; a cell that is not Python and defines no graded function
        is left out (a half-written experiment must not stop the functions)."""
        cleaned, lost = clean_cell(source)
        self.magics += lost
        names = defined_names(cleaned)
        if not (names & graded) and not _parses(cleaned):
            self.broken.append(position)
            return
        self.defined |= names
        # The marker lets the child name the notebook cell of a line in an error.
        part = f"{cell_marker(self.name, position)}\n{cleaned.rstrip()}\n"
        self.markers.append(self.line)
        self.positions.append(position)
        self.parts.append(part)
        self.line += part.count("\n") + 1  # the parts are joined with a blank line

    def cell_of(self, line: int) -> int:
        """The notebook cell that a line of the module comes from."""
        return self.positions[max(bisect_right(self.markers, line) - 1, 0)]

    def where(self, line: int) -> str:
        """A module line as the student knows it: 'lesson.ipynb cell 4, line 2'."""
        index = max(bisect_right(self.markers, line) - 1, 0)
        return f"{self.name} cell {self.positions[index]}, line {line - self.markers[index]}"

    def notes(self, pruned: pruning.Pruned | None) -> tuple[str, ...]:
        """One note saying what of the notebook did not run, if anything."""
        left = [s for s in pruned.left_out if s.active] if pruned is not None else []
        parts: list[str] = []
        if left:
            cells = {self.cell_of(line) for s in left for line in (s.first, s.last)}
            parts.append(f"{_cells(cells)} ({summary(left)})")
        if self.broken:
            verb = "is" if len(self.broken) == 1 else "are"
            parts.append(f"{_cells(self.broken)}, which {verb} not valid Python")
        if self.magics:
            plural = "s" if self.magics > 1 else ""
            parts.append(f"{self.magics} line{plural} of IPython magics or shell commands")
        missing = pruned.missing if pruned is not None else ()
        if not parts and not missing:
            return ()
        text = f"{self.name}: "
        if parts:
            text += ("the grader ran only what your graded functions need and left out "
                     + "; ".join(parts) + ".")
        if missing:
            names = " and ".join(missing)
            verb = "is" if len(missing) == 1 else "are"
            text += (f" {names} {verb} not installed where your code is graded, so a function "
                     "that uses it fails.")
        return (text.strip(),)


def summary(left_out: Collection[pruning.LeftOut], limit: int = 5) -> str:
    """What the left-out statements did, in a few words: 'imports of matplotlib.pyplot; calls to
    plt.plot(), print(); 2 other statements'."""
    imports = list(dict.fromkeys(m for s in left_out for m in s.imports))
    # What talks to the student comes first; NumPy's own calls only build data, so say nothing.
    calls = sorted(dict.fromkeys(f"{c}()" for s in left_out for c in s.calls
                                 if c.partition(".")[0] not in ("np", "numpy")),
                   key=lambda call: call not in _TALKING)
    defines = list(dict.fromkeys(d for s in left_out for d in s.defines))
    others = sum(1 for s in left_out if s.active and not (s.imports or s.calls or s.defines))
    parts = [f"{label} {_some(names, limit)}" for label, names in
             (("imports of", imports), ("calls to", calls), ("definitions of", defines)) if names]
    if others:
        parts.append(f"{others} other statement{'s' if others > 1 else ''}")
    return "; ".join(parts)


def spans(lines: Collection[int]) -> str:
    """Line numbers as short ranges: '3, 40-52'."""
    ordered = sorted(set(lines))
    ranges: list[list[int]] = []
    for line in ordered:
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1][1] = line
        else:
            ranges.append([line, line])
    return ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in ranges)


def _some(names: list[str], limit: int) -> str:
    """The first few names, and how many more."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _cells(positions: set[int] | list[int]) -> str:
    """'cell 3' or 'cells 2, 5, 7\u20139'."""
    return f"cell{'s' if len(set(positions)) > 1 else ''} {spans(positions)}"


def _graded_in_reference(exercise: str) -> tuple[str, ...]:
    """The reference's public functions for exercise that its suites call on the student."""
    defined = _public_functions(paths.reference_dir() / f"{exercise}.py")
    suites = [paths.suites_dir() / f"test_{exercise}.py",
              *sorted((paths.exercises_dir() / exercise).glob("test_*.py"))]
    called: set[str] = set()
    for suite in suites:
        tree = _read_tree(suite)
        called.update(n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                      and isinstance(n.value, ast.Name) and n.value.id == "student")
    return tuple(n for n in defined if n in called) if called else defined


def _public_functions(path: Path) -> tuple[str, ...]:
    """The functions a course module defines at top level, without the private ones."""
    return tuple(node.name for node in _read_tree(path).body
                 if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"))


def _read_tree(path: Path) -> ast.Module:
    """A course file's syntax tree; an empty one when the file is not there."""
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return ast.Module(body=[], type_ignores=[])


def _load_json(data: bytes) -> object:
    """Decode notebook JSON, turning every decoding failure into a NotebookError."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError("it is larger than the 16 MiB limit for a notebook")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NotebookError("it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise NotebookError("its JSON is nested too deeply") from None


def _cell_source(source: object, position: int) -> str:
    """A cell's source as one string; nbformat allows a string or a list of lines."""
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise NotebookError(f"cell {position} has a source that is not text")


def _keeps_body(magic_line: str) -> bool:
    """Whether a cell magic's body is Python that the kernel ran (%%time) or a .py file it wrote."""
    words = magic_line[2:].split()
    if not words:
        return False
    if words[0] == "writefile":
        return len(words) > 1 and words[-1].endswith(".py")
    return words[0] in _PYTHON_CELL_MAGICS


def _parses(source: str) -> bool:
    """Whether source is valid Python as it stands."""
    return scopes.parse(source) is not None


def _count_lines(source: str) -> int:
    """Non-blank lines in source."""
    return sum(1 for line in source.splitlines() if line.strip())


def _short(value: object) -> str:
    """A bounded rendering of an untrusted JSON value for a message."""
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "..."
