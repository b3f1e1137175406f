"""Advisories read from the student's source without running it: Python loops where NumPy
would work on the whole array at once. They cost no points.

Which functions get one, and what to write instead, is the course's to say: the
`[loop_advisories]` of each exercise.toml (see grader.exercise_spec).
"""

from __future__ import annotations

import ast
import re

from grader import exercise_spec

LOOPS = (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
#: Every loop above is spelt with one of these words: source without them needs no parsing.
_LOOP_WORD = re.compile(r"\b(?:for|while)\b")


def loop_advisories(sources: dict[str, str]) -> dict[tuple[str, str], str]:
    """(module, function) -> advisory, for the course's functions whose body loops in Python."""
    advice = exercise_spec.loop_advice()
    modules = {module for module, _ in advice}
    found: dict[tuple[str, str], str] = {}
    for module, source in sources.items():
        if module not in modules or not _LOOP_WORD.search(source):
            continue
        lines = source.splitlines()
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # the tests already report what is wrong with this file
        for node in tree.body:
            key = (module, getattr(node, "name", ""))
            if (isinstance(node, ast.FunctionDef) and key in advice
                    and _may_loop(lines, node) and _loops(node)):
                found[key] = (f"{node.name}() uses a Python loop. It works, but NumPy does the "
                              f"same on the whole array at once, far faster: {advice[key]}.")
    return found


def _may_loop(lines: list[str], function: ast.FunctionDef) -> bool:
    """Whether the function's code, its docstring left out, has a loop word (walking its tree
    costs far more than this look)."""
    first = function.lineno - 1
    doc = function.body[0] if function.body else None
    if (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
            and isinstance(doc.value.value, str) and doc.end_lineno is not None):
        first = doc.end_lineno
    end = function.end_lineno or len(lines)
    return _LOOP_WORD.search("\n".join(lines[first:end])) is not None


def _loops(function: ast.FunctionDef) -> bool:
    return any(isinstance(node, LOOPS) for node in ast.walk(function))
