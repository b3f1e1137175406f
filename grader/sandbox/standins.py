"""What the sandbox child puts in place of a notebook's surroundings: plotting and display libraries
that do nothing, an input() that answers "", a stand-in for a module the grader does not have,
and notebook cells named in error messages.

Runs in the sandbox child (standard library and NumPy), installed after isolation, so nothing
here changes the judge or the worker; discovery reads only its constants. Student code can undo
any of it, which only ever harms its own grade.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import linecache
import os
import re
import sys
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

#: Libraries that only draw or display: served as stand-ins when the grader does not have them.
DISPLAY_ONLY = frozenset({"matplotlib", "mpl_toolkits", "pylab", "seaborn", "IPython",
                          "ipywidgets", "plotly"})
#: A submission's sources may hold, under `<module><FALLBACK>`, the module with only what its
#: graded functions need: the child runs it when the module as sent fails to import.
FALLBACK = "#graded-functions"
#: The name a rewritten import calls (see grader.pruning), defined in the modules that use it.
IMPORT_HELPER = "__grader_import__"
#: How a notebook module marks where each cell starts (see cell_marker).
CELL_MARKER = re.compile(r"^# %% notebook (?P<notebook>.+), cell (?P<cell>\d+)$")

#: The student's sources, for naming notebook cells in messages (set by install).
_SOURCES: dict[str, str] = {}


class StandIn:
    """Anything a plot or display call returns: every use does nothing and gives a stand-in, so
    `fig, ax = plt.subplots()`, `ax.plot(...)`, `plt.rcParams[...] = ...` all run."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # NumPy, copy and pickle probe these: say there are none
        if name in ("subplots", "subplot_mosaic"):
            return subplots
        return StandIn(f"{self._name}.{name}")

    def __call__(self, *args: object, **kwargs: object) -> StandIn:
        return StandIn(f"{self._name}()")

    def __getitem__(self, key: object) -> StandIn:
        return StandIn(f"{self._name}[]")

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def __iter__(self) -> Iterator[object]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True  # `if fig:` holds, as it would for a real figure

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"<stand-in for {self._name}>"


def subplots(nrows: int = 1, ncols: int = 1, *args: object,
             **kwargs: object) -> tuple[StandIn, Any]:
    """plt.subplots: a figure and axes shaped as matplotlib shapes them (one, a row or a grid),
    so `fig, (ax1, ax2) = plt.subplots(1, 2)` unpacks."""
    import numpy as np  # imported here: the judge reads this module's constants without NumPy

    rows, cols = (n if isinstance(n, int) and 0 < n <= 64 else 1 for n in (nrows, ncols))
    grid = np.empty((rows, cols), dtype=object)
    for index in np.ndindex(rows, cols):
        grid[index] = StandIn("Axes")
    axes: Any = grid
    if kwargs.get("squeeze", True) is not False:
        axes = grid[0, 0] if rows == cols == 1 else grid.reshape(-1) if 1 in (rows, cols) else grid
    return StandIn("Figure"), axes


class StandInModule(types.ModuleType):
    """A module of a display-only library the grader does not have: any name is a stand-in."""

    __path__: list[str] = []  # a package: `import matplotlib.pyplot` finds its submodules here

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if name in ("subplots", "subplot_mosaic"):
            return subplots
        return StandIn(f"{self.__name__}.{name}")


class StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: serves DISPLAY_ONLY libraries that no other finder found."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        root = fullname.partition(".")[0]
        if root not in DISPLAY_ONLY:
            return None
        # A missing submodule of an installed library stays missing.
        if fullname != root and not isinstance(sys.modules.get(root), StandInModule):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return StandInModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _QuietPyplot(importlib.abc.MetaPathFinder):
    """Makes an installed matplotlib's show() do nothing (with the Agg backend it would warn that
    it cannot show, and the warning would reach the student's page)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "matplotlib.pyplot":
            return None
        for finder in sys.meta_path[sys.meta_path.index(self) + 1:]:
            find = getattr(finder, "find_spec", None)
            spec: importlib.machinery.ModuleSpec | None = (
                find(fullname, path, target) if find is not None else None)
            if spec is not None and spec.loader is not None:
                spec.loader = _AfterLoad(spec.loader)
                return spec
        return None


class _AfterLoad(importlib.abc.Loader):
    """A loader that runs matplotlib.pyplot's own, then silences its show()."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        setattr(module, "show", _nothing)
        figure = getattr(sys.modules.get("matplotlib.figure"), "Figure", None)
        if figure is not None:
            figure.show = _nothing


def _nothing(*args: object, **kwargs: object) -> None:
    """A show(), display() or clear_output() that shows nothing."""


def _no_input(prompt: object = "") -> str:
    """input() with nobody to answer: the prompt is printed (and captured), the answer is ''."""
    sys.stdout.write(str(prompt))
    return ""


def install(finder: importlib.abc.MetaPathFinder, sources: Mapping[str, str]) -> None:
    """Set up the child after isolation: `finder` is the submission's, first on sys.meta_path."""
    _SOURCES.clear()
    _SOURCES.update(sources)
    os.environ["MPLBACKEND"] = "Agg"  # no display here: draw (if at all) off screen
    builtins.input = _no_input
    if not hasattr(builtins, "display"):
        builtins.display = _nothing  # type: ignore[attr-defined]  # IPython gives notebooks one
    position = sys.meta_path.index(finder) + 1 if finder in sys.meta_path else 0
    sys.meta_path.insert(position, _QuietPyplot())
    sys.meta_path.append(StandInFinder())


class Missing:
    """Bound in place of a module the grader does not have: any use of it raises, so only the
    functions that need it fail, each saying which module and where it was imported."""

    def __init__(self, module: str, where: str) -> None:
        self._module = module
        self._where = where

    def _fail(self) -> ModuleNotFoundError:
        error = ModuleNotFoundError(f"No module named '{self._module}': it is not installed where "
                                    f"your code is graded (imported at {self._where})")
        error.name = self._module
        return error

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise self._fail()

    def __call__(self, *args: object, **kwargs: object) -> Any:
        raise self._fail()

    def __getitem__(self, key: object) -> Any:
        raise self._fail()

    def __iter__(self) -> Iterator[object]:
        raise self._fail()

    def __repr__(self) -> str:
        return f"<missing module {self._module}>"


def import_or_missing(module: str, where: str, attribute: str | None = None,
                      top: bool = False) -> Any:
    """What a rewritten import binds (see grader.pruning): `import module` (top=True), `import
    module as x`, or `from module import attribute`; a Missing if the module is not there."""
    try:
        if attribute is not None:
            return getattr(importlib.import_module(module), attribute)
        loaded = importlib.import_module(module)
        return sys.modules[module.partition(".")[0]] if top else loaded
    except ImportError as exc:
        return Missing(exc.name or module, where)


def fallback_tag(source: str) -> str:
    """The last line of a fallback made from `source`: a fallback is used only with the source it
    was made from, even where two copies of a module were merged (grader.single)."""
    digest = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=8)
    return f"# {FALLBACK} of {digest.hexdigest()}"


def run_module(module: types.ModuleType, source: str, fallback: str | None) -> None:
    """Run a student's module; if it fails and discovery made a fallback (FALLBACK), run that
    instead on a clean namespace: the graded functions with only what they need, when the
    module as sent stops on a library it lacks, input() or an experiment."""
    fresh = dict(module.__dict__)
    try:
        _run(module, source)
    except BaseException:
        if fallback is None or not fallback.endswith(fallback_tag(source)):
            raise
        module.__dict__.clear()
        module.__dict__.update(fresh)
        _run(module, fallback)


def _run(module: types.ModuleType, source: str) -> None:
    """Compile and run source as module, with a rewritten import's helper when it needs one."""
    if IMPORT_HELPER in source:
        module.__dict__[IMPORT_HELPER] = import_or_missing
    filename = f"{module.__name__}.py"
    # The source is not on disk: without it in linecache, a traceback names the line but not its
    # text, and the student reads "losses.py line 25: " with nothing after the colon.
    linecache.cache[filename] = (len(source), None, compiler_lines(source), filename)
    code = compile(source, filename, "exec", dont_inherit=True)
    exec(code, module.__dict__)


def compiler_lines(source: str) -> list[str]:
    """source's lines, ends kept, numbered as the compiler numbers them: str.splitlines also
    breaks at form feeds and other separators, which would shift every later line."""
    return [line for line in _LINE_END.split(source) if line]


_LINE_END = re.compile(r"(?<=\r\n)|(?<=\n)|(?<=\r)(?!\n)")


def cell_marker(notebook: str, cell: int) -> str:
    """The comment line that starts a notebook cell in the module built from it (grader.notebooks
    writes it, place() reads it)."""
    return f"# %% notebook {notebook}, cell {cell}"


def place(filename: str | None, lineno: int | None) -> tuple[str, str] | None:
    """('lesson.ipynb cell 4, line 2', its code) for a line of a module built from a notebook;
    None for any other module, whose messages keep naming the file and line."""
    if not filename or not lineno or not filename.endswith(".py"):
        return None
    source = _SOURCES.get(filename[:-3])
    if source is None or "# %% notebook " not in source:
        return None
    lines = source.split("\n")
    for number in range(min(lineno, len(lines)), 0, -1):
        found = CELL_MARKER.match(lines[number - 1])
        if found:
            code = lines[lineno - 1].strip() if lineno <= len(lines) else ""
            return f"{found['notebook']} cell {found['cell']}, line {lineno - number}", code
    return None
