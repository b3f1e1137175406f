"""Keep what a student's graded functions need from a module's top-level code, and leave out the
rest: the plots, prints, input() calls and experiments around them.

Everything here reads code with ast and symtable; nothing a student wrote runs in this process.
The result keeps every kept line at its place (left-out statements become blank lines), so a line
number in an error still points at what the student wrote.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib.util
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from grader import scopes
from grader.sandbox.standins import IMPORT_HELPER

_BUILTINS = frozenset(dir(builtins))
# A line that starts a definition, an import, a decorator, a comment or a continuation: a module
# made only of such lines (after its docstring) runs nothing at the top level worth pruning.
_QUIET_LINE = re.compile(r"(?:def |async def |class |import |from |@|#|\s|$|[\"')\]}])")
_DOCSTRING = re.compile(r'\A\s*(?:"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\')')


@dataclass(frozen=True)
class LeftOut:
    """One top-level statement that the graded functions do not need."""

    first: int
    """Its first line (decorators included), 1-based."""
    last: int
    """Its last line."""
    imports: tuple[str, ...]
    """The modules it imports."""
    calls: tuple[str, ...]
    """What it calls, as written: 'plt.plot', 'print'."""
    defines: tuple[str, ...]
    """The functions and classes it defines."""
    active: bool
    """Whether leaving it out changes what runs: not a definition, docstring, literal
    assignment or `if __name__ == "__main__":` block."""


@dataclass(frozen=True)
class Pruned:
    """A module's source with only what its graded functions need."""

    source: str
    """The kept code, line for line where the original had it."""
    left_out: tuple[LeftOut, ...]
    """The statements left out, in order."""
    missing: tuple[str, ...]
    """Modules that kept code imports but the grader does not have: bound to stand-ins that
    fail when used, so only the functions that use them fail."""
    absent: tuple[str, ...] = ()
    """Modules the grader does not have that a top-level import statement (kept or not)
    imports: the module as sent cannot be imported."""

    @property
    def changed(self) -> bool:
        """Whether the pruned module runs differently from the whole one."""
        return bool(self.missing) or any(s.active for s in self.left_out)


def prune(source: str, graded: Collection[str], available: Callable[[str], bool],
          where: Callable[[int], str]) -> Pruned | None:
    """Keep the statements the graded functions defined in `source` need, transitively.

    available(module) says whether the sandbox can import a top-level module; where(line) names a
    line for a student ('lesson.ipynb cell 4, line 2'). None when the source cannot be read as
    Python (it is then run as it is, so the student sees Python's own error).
    """
    if "\r" in source.replace("\r\n", ""):
        return None  # a lone CR ends a line for Python but not for the line arithmetic below
    statements = scopes.statements(source)
    if statements is None:
        return None
    kept = _keep(statements, set(graded))
    lines = source.split("\n")
    missing: list[str] = []
    left_out: list[LeftOut] = []
    for statement, keep in zip(statements, kept):
        if keep:
            missing += _rewrite_missing(statement, statements, lines, available, where)
        else:
            left_out.append(_left_out(statement))
            span = statement.last - statement.first + 1
            lines[statement.first - 1:statement.last] = [""] * span
    absent = [t for s in statements for t in _top_imports(s.node) if not available(t)]
    result = Pruned("\n".join(lines), tuple(left_out), tuple(dict.fromkeys(missing)),
                    tuple(dict.fromkeys(absent)))
    # A line continuation before a left-out statement (a stray backslash) can leave the rest
    # unreadable: then the module runs as it was written.
    return result if scopes.parse(result.source) is not None else None


def runs_code(source: str, available: Callable[[str], bool]) -> bool:
    """Whether a module's top level does more than define, import what is installed and assign
    literals: a cheap look that spares most files a full prune()."""
    body = _DOCSTRING.sub("", source, count=1)
    if all(_QUIET_LINE.match(line) for line in body.split("\n")):
        return False
    tree = scopes.parse(source)
    if tree is None:
        return False
    for node in tree.body:
        tops = _top_imports(node)
        if any(not available(t) for t in tops):
            return True
        if not tops and not isinstance(node, (ast.Import, ast.ImportFrom)) and _active(node):
            return True
    return False


@functools.cache
def installed(module: str) -> bool:
    """Whether a top-level module is installed where the grader runs (the sandbox child imports
    from the same installation). Looked up, never imported; True when in doubt, so that the
    import is left as it is."""
    if not module.isidentifier():
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError, AttributeError):
        return True


def _is_main_guard(node: ast.stmt) -> bool:
    """Whether node is `if __name__ == "__main__":`, which never runs in the grader."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    sides = [test.left, *test.comparators]
    if len(sides) != 2 or not isinstance(test.ops[0], ast.Eq):
        return False
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    values = {s.value for s in sides if isinstance(s, ast.Constant)}
    return names == {"__name__"} and values == {"__main__"}


def _top_imports(node: ast.stmt) -> list[str]:
    """The top-level modules an import statement at module level imports (none if relative)."""
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        top = node.module.split(".")[0]
        return [] if top == "__future__" else [top]
    return []


def _keep(statements: list[scopes.Statement], graded: set[str]) -> list[bool]:
    """Which statements to keep: those binding or changing a needed name, until nothing more is
    needed. The student's own definition of a graded function wins over an import of the same
    name (`from torch.nn.functional import mse_loss` in a comparison cell)."""
    own = {n for s in statements if not isinstance(s.node, (ast.Import, ast.ImportFrom))
           for n in s.binds & graded}
    for s in statements:
        if isinstance(s.node, (ast.Import, ast.ImportFrom)):
            s.binds -= own
    for s in statements:
        # init() setting `global W`, set_alpha() filling PARAMS: a call that shapes a needed
        # name. Not a graded function's own calls: mse counting its calls in a global must
        # not keep every experiment that calls mse.
        s.changes |= {n for callee, names in s.effects.items() if callee not in graded
                      for n in names}
    bound = {n for s in statements for n in s.binds | s.changes}
    by_name: dict[str, list[int]] = {}
    by_line: dict[int, list[int]] = {}
    for index, s in enumerate(statements):
        for name in s.binds | s.changes:
            by_name.setdefault(name, []).append(index)
        for line in (s.first, s.last):
            by_line.setdefault(line, []).append(index)
    # A __future__ import changes how the whole module compiles.
    queue = [i for i, s in enumerate(statements) if _imports_from(s.node, "__future__")]
    needed: set[str] = set()
    for name in graded & bound:
        needed.add(name)
        queue += by_name[name]
    kept = [False] * len(statements)
    stars = [i for i, s in enumerate(statements) if _imports_from(s.node, "*")]
    while queue or stars:
        if not queue:
            if not any(n not in bound and n not in _BUILTINS for n in needed):
                break
            queue, stars = stars, []  # a star import may be where such a name comes from
        index = queue.pop()
        if kept[index]:
            continue
        kept[index] = True
        statement = statements[index]
        for name in statement.needs - needed:
            needed.add(name)
            queue += by_name.get(name, [])
        # A statement sharing a line with kept code (a; b) cannot be cut out of it.
        queue += by_line[statement.first] + by_line[statement.last]
    return kept


def _imports_from(node: ast.stmt, what: str) -> bool:
    """Whether node is `from __future__ import ...` (what='__future__') or a star import."""
    if not isinstance(node, ast.ImportFrom):
        return False
    return node.module == what if what != "*" else node.names[0].name == "*"


def _rewrite_missing(statement: scopes.Statement, statements: list[scopes.Statement],
                     lines: list[str], available: Callable[[str], bool],
                     where: Callable[[int], str]) -> list[str]:
    """Turn a kept import of a module the grader lacks into a stand-in that fails when used, so
    the import no longer stops the whole module; return the modules so bound."""
    node = statement.node
    tops = _top_imports(node)
    if not tops or all(available(top) for top in tops) or node.col_offset != 0:
        return []
    if any(o is not statement and o.first <= statement.last and o.last >= statement.first
           for o in statements):
        return []  # shares a line with another statement: left as it is
    place = repr(where(statement.first))
    calls: list[str] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                calls.append(f"{alias.asname} = {IMPORT_HELPER}({alias.name!r}, {place})")
            else:
                top = alias.name.split(".")[0]
                calls.append(f"{top} = {IMPORT_HELPER}({alias.name!r}, {place}, top=True)")
    elif isinstance(node, ast.ImportFrom) and node.module and node.names[0].name != "*":
        for alias in node.names:
            calls.append(f"{alias.asname or alias.name} = {IMPORT_HELPER}("
                         f"{node.module!r}, {place}, attribute={alias.name!r})")
    if not calls:
        return []
    span = statement.last - statement.first + 1
    lines[statement.first - 1:statement.last] = ["; ".join(calls)] + [""] * (span - 1)
    return [t for t in tops if not available(t)]


def _left_out(statement: scopes.Statement) -> LeftOut:
    """What a left-out statement was, for the note that tells the student."""
    node = statement.node
    imports: list[str] = []
    if isinstance(node, ast.Import):
        imports = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module:
        imports = [node.module]
    defines = [node.name] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                               ast.ClassDef)) else []
    calls = [] if defines else list(dict.fromkeys(statement.calls))
    return LeftOut(statement.first, statement.last, tuple(imports), tuple(calls), tuple(defines),
                   _active(node))


def _active(node: ast.stmt) -> bool:
    """Whether running node could do anything: see LeftOut.active."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # Defining runs nothing, unless a decorator, default or base class is a call.
        return any(isinstance(part, ast.Call) for part, _ in scopes.module_scope(node, frozenset()))
    if isinstance(node, ast.Pass):
        return False
    if _is_main_guard(node):
        return False
    value = node.value if isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
    if isinstance(node, ast.Assign) and not all(isinstance(t, ast.Name) for t in node.targets):
        return True
    if isinstance(node, ast.AnnAssign) and not isinstance(node.target, ast.Name):
        return True
    if isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)):
        return value is not None and not _literal(value)
    return True


def _literal(node: ast.expr) -> bool:
    """Whether an expression is plain data (a docstring, a number, a list of them)."""
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True
