"""What each top-level statement of a student's module binds, changes and needs, read with ast
and symtable (nothing a student wrote runs here): what grader.pruning decides with.
"""

from __future__ import annotations

import ast
import symtable
import warnings
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
"""What reading odd code raises (CPython reports very deep nesting as MemoryError or
RecursionError)."""
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass
class Statement:
    """What one top-level statement binds, changes and needs at module level."""

    node: ast.stmt
    """The statement."""
    first: int
    """Its first line (decorators included), 1-based."""
    last: int
    """Its last line."""
    binds: set[str] = field(default_factory=set)
    """Module names it assigns, defines, imports or deletes."""
    changes: set[str] = field(default_factory=set)
    """Module names whose object it changes: TABLE["k"] = v, obj.attr = v, CACHE.update(...)."""
    needs: set[str] = field(default_factory=set)
    """Module names it reads, its functions and classes included."""
    calls: list[str] = field(default_factory=list)
    """What it calls at module level, as written: 'plt.plot'."""
    effects: dict[str, set[str]] = field(default_factory=dict)
    """Function it calls by name -> the module names that function assigns as globals or changes
    in place (init() setting `global W`, set_alpha() filling PARAMS["alpha"])."""


def statements(source: str) -> list[Statement] | None:
    """Every top-level statement of source, read; None when source is not Python."""
    try:
        with warnings.catch_warnings():
            # An odd literal (1if x else y) warns; the student's own run would say so.
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
            table = symtable.symtable(source, "<student>", "exec")
        found = [_statement(node) for node in tree.body]
        _add_nested_scopes(found, table)
    except PARSE_ERRORS:
        return None
    return found


def parse(source: str) -> ast.Module | None:
    """The syntax tree of source, without the warnings of odd literals; None if it is not
    Python."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except PARSE_ERRORS:
        return None


def _statement(node: ast.stmt) -> Statement:
    """Scan one top-level statement at module scope (nested scopes come from symtable)."""
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    found = Statement(node, first, node.end_lineno or node.lineno)
    for child, hidden in module_scope(node, frozenset()):
        # TABLE["k"] = v, obj.attr = v, CACHE.update(...), np.random.seed(0): its object changes.
        found.changes |= _changed_roots(child)
        if isinstance(child, ast.Name) and child.id not in hidden:
            (found.needs if isinstance(child.ctx, ast.Load) else found.binds).add(child.id)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.binds.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            found.binds.update((a.asname or a.name).split(".")[0] for a in child.names)
        elif isinstance(child, ast.Call):
            found.calls.append(_dotted(child.func))
        elif isinstance(child, (ast.MatchAs, ast.MatchStar, ast.ExceptHandler)) and child.name:
            found.binds.add(child.name)
    found.calls = [c for c in found.calls if c]
    return found


def module_scope(node: ast.AST, hidden: frozenset[str]) -> Iterator[tuple[ast.AST, frozenset[str]]]:
    """Every node that runs in module scope when node runs, with the comprehension variables
    that hide module names there. Function and class bodies are nested scopes: left out."""
    stack = [(node, hidden)]
    while stack:  # not recursive: a long chain of a + b + ... nests deeper than the stack
        node, hidden = stack.pop()
        yield node, hidden
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            returns = [node.returns] if node.returns else []
            children: list[ast.AST] = [*node.decorator_list, node.args, *returns]
        elif isinstance(node, ast.Lambda):
            children = [node.args]
        elif isinstance(node, ast.ClassDef):
            children = [*node.decorator_list, *node.bases, *node.keywords]
        else:
            children = list(ast.iter_child_nodes(node))
            if isinstance(node, _COMPREHENSIONS):
                hidden = hidden | {n.id for g in node.generators for n in ast.walk(g.target)
                                   if isinstance(n, ast.Name)}
        stack.extend((child, hidden) for child in reversed(children))


def _root(node: ast.expr) -> set[str]:
    """The name an attribute or subscript chain starts from: {'TABLE'} for TABLE['a'].b."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return {node.id} if isinstance(node, ast.Name) else set()


def _dotted(node: ast.expr) -> str:
    """'plt.plot' for a call of plt.plot; '' when the callee is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([node.id, *reversed(parts)])


def _add_nested_scopes(statements: list[Statement], table: symtable.SymbolTable) -> None:
    """Add the module names that functions, lambdas, classes and comprehensions use to the
    statement they sit in, and to each call of a function what that function does to them."""
    starts = [s.first for s in statements]
    defs = {s.node.name: s.node for s in statements if isinstance(s.node, ast.FunctionDef)}
    effects: dict[str, set[str]] = {}
    for child in table.get_children():
        used, assigned = _globals(child)
        line = child.get_lineno()
        index = bisect_right(starts, line) - 1
        # Statements sharing a line (a; b) all get the scope: more is kept, never less.
        while index >= 0 and statements[index].last >= line:
            statements[index].needs |= used
            index -= 1
        function = defs.get(child.get_name())
        if child.get_type() == "function" and function is not None:
            changed = {n for node in ast.walk(function) for n in _changed_roots(node)}
            effects.setdefault(child.get_name(), set()).update(assigned | (changed & used))
    for statement in statements:
        statement.effects = {c: effects[c] for c in statement.calls if effects.get(c)}


def _changed_roots(node: ast.AST) -> set[str]:
    """The name whose object node changes in place: TABLE for TABLE["k"] = v, del obj.a or
    TABLE.update(...) as a statement."""
    if isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
        return _root(node)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        if isinstance(node.value.func, ast.Attribute):
            return _root(node.value.func)
    return set()


def _globals(table: symtable.SymbolTable) -> tuple[set[str], set[str]]:
    """Module names a scope (and the scopes inside it) uses, and those it declares global and
    assigns."""
    used: set[str] = set()
    assigned: set[str] = set()
    for symbol in table.get_symbols():
        if symbol.is_global():
            used.add(symbol.get_name())
            if symbol.is_declared_global() and symbol.is_assigned():
                assigned.add(symbol.get_name())
    for child in table.get_children():
        more_used, more_assigned = _globals(child)
        used |= more_used
        assigned |= more_assigned
    return used, assigned
