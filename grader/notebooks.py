"""Turn a student's Jupyter notebook into the exercise modules the grader imports."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping

#: Exercise module -> the functions that module must define. A notebook supplies a module when it
#: defines at least one of that module's functions.
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "activations": ("relu", "sigmoid", "tanh", "softmax"),
    "leaky_relu": ("leaky_relu", "relu_grad"),
    # softmax is also an activations function: one notebook definition serves both modules.
    "softmax_debug": ("softmax",),
    "scaling": ("softmax_temperature", "entropy"),
}

#: Notebooks carry their outputs (plots as base64 images), so they get a larger cap than sources.
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024

# Cell magics whose body is ordinary Python that ran in the kernel, so the body is kept.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
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
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # (CPython's parser reports very deep nesting as MemoryError or RecursionError.)
        # A broken cell still counts: its module is built so the student sees the SyntaxError.
        return set(_DEF_LINE.findall(source))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def notebook_modules(
    name: str, data: bytes, functions: Mapping[str, tuple[str, ...]] = FUNCTIONS
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Split a notebook into exercise modules; return module -> source and notes for the student.

    Every module gets the whole cleaned notebook, not just its own defs: the student's functions
    may use imports, constants and helpers from any cell, and running all cells top to bottom is
    exactly what the student saw work. Extra definitions are harmless because the judge looks
    functions up by name.
    """
    parts: list[str] = []
    defined: set[str] = set()
    dropped = 0
    for position, source in code_cells(data):
        cleaned, lost = clean_cell(source)
        dropped += lost
        defined |= defined_names(cleaned)
        # The marker lets a student map a line number in an error back to a notebook cell.
        parts.append(f"# %% notebook cell {position}\n{cleaned.rstrip()}\n")
    code = "\n".join(parts)
    modules = {module: code for module, names in functions.items() if defined & set(names)}
    notes: list[str] = []
    if dropped:
        what = "line that is an IPython magic or shell command"
        if dropped > 1:
            what = "lines that are IPython magics or shell commands"
        notes.append(f"dropped {dropped} notebook {what} from {name}")
    return modules, tuple(notes)


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
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _count_lines(source: str) -> int:
    """Non-blank lines in source."""
    return sum(1 for line in source.splitlines() if line.strip())


def _short(value: object) -> str:
    """A bounded rendering of an untrusted JSON value for a message."""
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "..."
