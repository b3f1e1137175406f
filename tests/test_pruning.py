"""Pruning a module's top level to what its graded functions need, read with ast only."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.pruning import IMPORT_HELPER, Pruned, prune, runs_code

INSTALLED = {"numpy", "math", "matplotlib", "scipy"}


def pruned(source: str, graded: set[str] | None = None) -> Pruned:
    """prune() of a dedented source, with numpy, math, matplotlib and scipy installed."""
    found = prune(textwrap.dedent(source), graded or {"relu", "sigmoid", "softmax"},
                  lambda top: top in INSTALLED, lambda line: f"nb.ipynb line {line}")
    assert found is not None
    return found


def kept(result: Pruned) -> list[str]:
    """The non-blank lines that were kept."""
    return [line for line in result.source.split("\n") if line.strip()]


def test_keeps_definitions_and_what_they_use_transitively_and_nothing_else() -> None:
    """Imports, constants and helpers reached from a graded function stay; the rest goes."""
    result = pruned('''\
        import numpy as np
        import matplotlib.pyplot as plt
        from math import e as E
        SCALE = 2.0
        OFFSET = SCALE * 0
        def _shift(z):
            return z - OFFSET
        def relu(z):
            return np.maximum(0, _shift(z))
        def plot(f):
            plt.plot(f(np.arange(3)))
        plot(relu)
        print(relu(np.array([1.0])))
        name = input("name? ")
        ''')
    assert kept(result) == ["import numpy as np", "SCALE = 2.0", "OFFSET = SCALE * 0",
                            "def _shift(z):", "    return z - OFFSET", "def relu(z):",
                            "    return np.maximum(0, _shift(z))"]
    left = {(s.first, s.imports, s.calls, s.defines, s.active) for s in result.left_out}
    assert left == {
        (2, ("matplotlib.pyplot",), (), (), True), (3, ("math",), (), (), True),
        (10, (), (), ("plot",), False), (12, (), ("plot",), (), True),
        (13, (), ("print", "relu", "np.array"), (), True), (14, (), ("input",), (), True)}
    assert result.changed and result.missing == () and result.absent == ()


def test_line_numbers_stay_where_they_were() -> None:
    """Left-out statements become blank lines, so an error's line is the student's line."""
    source = "import numpy as np\nprint(1)\nprint(\n    2)\ndef relu(z):\n    return np.abs(z)\n"
    result = pruned(source)
    assert result.source == "import numpy as np\n\n\n\ndef relu(z):\n    return np.abs(z)\n"


def test_statements_that_change_a_needed_name_stay() -> None:
    """Filling a table, seeding NumPy and an init() setting a global all shape what relu sees."""
    result = pruned('''\
        import numpy as np
        TABLE = {}
        TABLE["a"] = 1.0
        np.random.seed(0)
        for k in "bc":
            TABLE[k] = 2.0
        def init():
            global W
            W = np.ones(3)
        init()
        PARAMS = {}
        def set_scale(s):
            PARAMS["scale"] = s
        set_scale(2.0)
        def show(x):
            print(PARAMS[x])
        show("scale")
        def relu(z):
            return np.maximum(0, z) * TABLE["a"] * W[0] * PARAMS["scale"]
        print(TABLE)
        ''')
    assert "print(TABLE)" not in result.source and 'show("scale")' not in result.source
    assert len(kept(result)) == 16


def test_a_graded_function_counting_its_calls_does_not_keep_every_call() -> None:
    """`global calls` in relu must not make every experiment calling relu needed."""
    result = pruned('''\
        calls = 0
        def relu(z):
            global calls
            calls += 1
            return z
        y = relu(3)
        ''')
    assert kept(result)[0] == "calls = 0" and "y = relu(3)" not in result.source


def test_nested_scopes_are_read_exactly() -> None:
    """A parameter or comprehension variable named like a global does not keep that global;
    names used in lambdas, comprehensions, class bodies and defaults do."""
    result = pruned('''\
        z = tf.constant(1)
        k = 3
        LOW = 0.0
        class Clip:
            low = LOW
        def relu(z, k=k):
            return [max(Clip.low, v) for v in z] + [z for z in range(2)]
        sigmoid = lambda x: 1 / (1 + EXP(-x))
        EXP = __import__("math").exp
        ''')
    assert "z = tf.constant(1)" not in result.source
    wanted = {"k = 3", "LOW = 0.0", "class Clip:", "EXP = __import__(\"math\").exp"}
    assert wanted <= set(kept(result))


def test_the_students_definition_wins_over_an_import_of_the_same_name() -> None:
    """A comparison cell's `from torch.nn.functional import relu` is left out."""
    result = pruned('''\
        import numpy as np
        def relu(z):
            return np.maximum(0, z)
        from torch.nn.functional import relu
        ''')
    assert "torch" not in result.source and result.absent == ("torch",)
    only_import = pruned("from scipy.special import expit as sigmoid\n")
    assert kept(only_import) == ["from scipy.special import expit as sigmoid"]


def test_a_needed_import_of_a_module_the_grader_lacks_becomes_a_stand_in() -> None:
    """The module still imports; the function that uses the library fails alone."""
    result = pruned('''\
        import numpy as np
        import tensorflow as tf
        import torch.nn
        from jax.numpy import exp, tanh as th
        def relu(z):
            return tf.nn.relu(z) + torch.nn.ReLU() + exp(z) + th(z)
        ''')
    lines = result.source.split("\n")
    assert lines[1] == f"tf = {IMPORT_HELPER}('tensorflow', 'nb.ipynb line 2')"
    assert lines[2] == f"torch = {IMPORT_HELPER}('torch.nn', 'nb.ipynb line 3', top=True)"
    assert lines[3] == (f"exp = {IMPORT_HELPER}('jax.numpy', 'nb.ipynb line 4', attribute='exp'); "
                        f"th = {IMPORT_HELPER}('jax.numpy', 'nb.ipynb line 4', attribute='tanh')")
    assert result.missing == ("tensorflow", "torch", "jax") == result.absent


def test_guarded_imports_and_shared_lines_are_left_as_written() -> None:
    """A try/except import is the student's own fallback; `a; b` cannot be cut apart."""
    result = pruned('''\
        try:
            import torch
        except ImportError:
            torch = None
        import numpy as np; import tensorflow as tf
        def relu(z):
            return z if torch is None else torch.relu(z) + np.zeros(1) + tf.zeros(1)
        ''')
    assert result.missing == () and "import torch" in result.source
    assert "import numpy as np; import tensorflow as tf" in result.source


def test_future_imports_star_imports_and_main_guards() -> None:
    """__future__ always stays; a star import stays when a needed name may come from it; a
    main guard never runs in the grader, so leaving it out changes nothing."""
    result = pruned('''\
        from __future__ import annotations
        from numpy import *
        def relu(z):
            return maximum(0, z)
        if __name__ == "__main__":
            print(relu(1))
        """A docstring."""
        ''')
    assert kept(result)[:2] == ["from __future__ import annotations", "from numpy import *"]
    assert [s.active for s in result.left_out] == [False, False] and not result.changed


@pytest.mark.parametrize("source", [
    "def relu(z)\n    return z\n",  # a SyntaxError: run as written, so the student sees it
    "def relu(z, z):\n    return z\n",  # rejected by symtable only
    "x = 1\r\ny = 2\rdef relu(z): return z\n",  # a lone CR
])
def test_code_that_cannot_be_read_is_not_pruned(source: str) -> None:
    assert prune(source, {"relu"}, lambda top: True, str) is None


def test_runs_code_spots_top_level_work_cheaply() -> None:
    """Definitions, installed imports, literals and main guards are not worth a fallback."""
    quiet = ('import numpy as np\nALPHA = 0.01\n\ndef relu(z):\n    return z\n'
             'if __name__ == "__main__":\n    relu(1)\n')
    assert not runs_code(quiet, lambda top: top in INSTALLED)
    assert runs_code(quiet + "print(1)\n", lambda top: top in INSTALLED)
    assert runs_code("import torch\n" + quiet, lambda top: top in INSTALLED)
    assert not runs_code("def relu(z)\n  return z\nprint(1)\n", lambda top: True)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="abcdefz()=:+-*. \n\t#@'\"[]{},;0123456789irmpotfdln", max_size=200))
def test_prune_never_raises_and_keeps_the_layout(source: str) -> None:
    """Property: any text either is not pruned or keeps its number of lines."""
    result = prune(source, {"f", "relu"}, lambda top: False, str)
    if result is not None:
        assert result.source.count("\n") == source.count("\n")
