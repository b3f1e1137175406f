"""Advisories read from the student's source without running it: Python loops where NumPy
would work on the whole array at once. They cost no points."""

from __future__ import annotations

import ast
import re

#: Functions of the lesson that NumPy computes without a Python loop, with the call to use.
VECTORISED = {
    ("activations", "relu"): "np.maximum(0, z)",
    ("activations", "sigmoid"): "1 / (1 + np.exp(-z))",
    ("activations", "tanh"): "np.tanh(z)",
    ("activations", "softmax"): "np.exp and np.sum with axis=-1, keepdims=True",
    ("leaky_relu", "leaky_relu"): "np.where(z > 0, z, alpha * z)",
    ("leaky_relu", "relu_grad"): "(z > 0).astype(float)",
    ("softmax_debug", "softmax"): "np.exp and np.sum with axis=-1, keepdims=True",
    ("scaling", "softmax_temperature"): "a max-shifted softmax of z / temperature",
    ("scaling", "entropy"): "np.sum with np.where for the p = 0 entries",
}
LOOPS = (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
#: Every loop above is spelt with one of these words: source without them needs no parsing.
_LOOP_WORD = re.compile(r"\b(?:for|while)\b")
_MODULES = {module for module, _ in VECTORISED}


def loop_advisories(sources: dict[str, str]) -> dict[tuple[str, str], str]:
    """(module, function) -> advisory, for lesson functions whose body loops in Python."""
    found: dict[tuple[str, str], str] = {}
    for module, source in sources.items():
        if module not in _MODULES or not _LOOP_WORD.search(source):
            continue
        lines = source.splitlines()
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # the tests already report what is wrong with this file
        for node in tree.body:
            key = (module, getattr(node, "name", ""))
            if (isinstance(node, ast.FunctionDef) and key in VECTORISED
                    and _may_loop(lines, node) and _loops(node)):
                found[key] = (f"{node.name}() uses a Python loop. It works, but NumPy does the "
                              f"same on the whole array at once, far faster: {VECTORISED[key]}.")
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
