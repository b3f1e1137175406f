"""Notebooks turned into exercise modules, on their own and through discovery."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.notebooks import (
    exercise_functions,
    NotebookError,
    clean_cell,
    code_cells,
    defined_names,
    notebook_modules,
)
from grader import paths
from grader.course import exercises
from grader.submissions import discover


def cell(source: str | list[str], kind: str = "code") -> dict[str, object]:
    """One nbformat-4 cell."""
    found: dict[str, object] = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        found |= {"outputs": [], "execution_count": None}
    return found


def notebook(*cells: dict[str, object], version: object = 4) -> bytes:
    """An nbformat notebook as the bytes Jupyter would save."""
    document = {"nbformat": version, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}
    return json.dumps(document).encode()


LESSON = notebook(
    cell("# Activation functions\nWrite relu and friends.", kind="markdown"),
    cell(["%matplotlib inline\n", "import numpy as np\n", "!pip install numpy\n"]),
    cell("SCALE = 2.0\n\ndef relu(z):\n    return np.maximum(0, z)\n"),
    cell("def softmax(z):\n    e = np.exp(z - z.max())\n    return e / e.sum()\n"),
    cell("leaky_relu = lambda z, alpha=0.01: np.where(z > 0, z, alpha * z)\n"),
    cell("%%bash\necho hi\nls\n"),
    cell("relu(np.array([-1.0, 2.0]))\n"),
)


# ---------------------------------------------------------------------------------------------
# parsing


def test_code_cells_keeps_code_in_order_and_joins_line_lists() -> None:
    """Markdown is skipped; list-of-lines sources are joined; positions count every cell."""
    found = code_cells(LESSON)
    assert [position for position, _ in found] == [2, 3, 4, 5, 6, 7]
    assert found[0][1] == "%matplotlib inline\nimport numpy as np\n!pip install numpy\n"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "invalid JSON (Expecting property name enclosed in double quotes at line 1)"),
        (b"[1, 2]", "the file does not hold a JSON object"),
        (notebook(version=3), "it uses nbformat 3, but only nbformat 4 is supported"),
        (b'{"cells": []}', "it has no nbformat version, so it is not a Jupyter notebook"),
        (b'{"nbformat": 4, "cells": {}}', "it has no list of cells"),
        (b'{"nbformat": 4, "cells": [7]}', "cell 1 is not a JSON object"),
        (notebook(cell([1, 2])), "cell 1 has a source that is not text"),  # type: ignore[list-item]
        (b"\xff\xfe\x00garbage", "it is not UTF-8 text"),
        (b"[" * 100_000, "its JSON is nested too deeply"),
    ],
)
def test_invalid_notebooks_raise_with_a_reason(data: bytes, reason: str) -> None:
    """Each malformed notebook names what is wrong with it."""
    with pytest.raises(NotebookError) as caught:
        code_cells(data)
    assert str(caught.value) == reason


# ---------------------------------------------------------------------------------------------
# cleaning cells


def test_magics_and_shell_lines_become_pass_keeping_line_numbers() -> None:
    """The code stays valid and every later line keeps its number."""
    source = "%matplotlib inline\nimport numpy as np\nif True:\n    !ls\nx = 1\n"
    cleaned, dropped = clean_cell(source)
    assert dropped == 2
    assert cleaned == "pass\nimport numpy as np\nif True:\n    pass\nx = 1\n"
    compile(cleaned, "cell", "exec")


def test_valid_python_is_never_touched() -> None:
    """A '%' continuing an expression is modulo, not a magic."""
    source = "x = (10\n     % 3)\n"
    assert clean_cell(source) == (source, 0)


def test_cell_magics() -> None:
    """Shell cell magics go entirely; timing magics keep their Python body."""
    assert clean_cell("%%bash\necho hi\n\nls\n") == ("", 3)
    assert clean_cell("%%time\ndef relu(z):\n    return z\n") == ("def relu(z):\n    return z\n", 1)
    assert clean_cell("%%writefile act.py\ndef relu(z):\n    return z\n")[0].startswith("def relu")
    assert clean_cell("%%writefile notes.txt\nhello\n") == ("", 2)


def test_defined_names_finds_defs_and_lambdas_even_in_broken_cells() -> None:
    """A cell with a syntax error still counts, so its module is built and the error shown."""
    assert defined_names("def relu(z):\n    return z\nsigmoid = lambda z: z\nclass A: pass\n") == {
        "relu",
        "sigmoid",
    }
    assert defined_names("def relu(z)\n    return z\n\nasync def tanh(z): pass\n") == {"relu", "tanh"}


# ---------------------------------------------------------------------------------------------
# splitting into modules


def test_notebook_modules_split_by_defined_functions() -> None:
    """softmax serves two modules; scaling is absent because nothing of it is defined."""
    modules, notes = notebook_modules("lesson.ipynb", LESSON)
    assert set(modules) == {"activations", "leaky_relu", "softmax_debug"}
    assert notes == (
        "lesson.ipynb: the grader ran only what your graded functions need and left out cell 7 "
        "(calls to relu()); 5 lines of IPython magics or shell commands.",
    )
    namespace: dict[str, object] = {}
    exec(compile(modules["activations"], "activations.py", "exec"), namespace)
    relu = namespace["relu"]
    assert callable(relu)
    assert relu(np.array([-1.0, 3.0])).tolist() == [0.0, 3.0]


def test_a_broken_cell_is_kept_so_the_student_sees_the_error() -> None:
    """The SyntaxError points at the notebook cell the student wrote."""
    data = notebook(cell("import math\n"), cell("def sigmoid(z):\n    return 1 / (1 + math.exp(-z)\n"))
    modules, _ = notebook_modules("nb.ipynb", data)
    source = modules["activations"]
    with pytest.raises(SyntaxError) as caught:
        compile(source, "activations.py", "exec")
    lines = source.splitlines()
    assert caught.value.lineno is not None
    assert "# %% notebook nb.ipynb, cell 2" in lines[: caught.value.lineno]


def test_functions_table_is_read_from_the_course_material() -> None:
    """Every exercise, from the reference; softmax serves activations and softmax_debug, and the
    reference's own softmax helper in softmax_properties is not a graded function."""
    table = exercise_functions()
    assert table == {
        "activations": ("relu", "sigmoid", "tanh", "softmax"),
        "leaky_relu": ("leaky_relu", "relu_grad"),
        "softmax_debug": ("softmax",),
        "scaling": ("softmax_temperature", "entropy"),
        "concepts": ("hidden_layer_activation", "output_activation", "tanh_over_sigmoid_reason",
                     "softmax_by_hand", "activation_range"),
        "linear_collapse": ("collapse_linear", "relu_breaks_collapse"),
        "softmax_properties": ("logsumexp", "boltzmann_policy", "softmax_lipschitz_bound"),
    }
    assert set(table) == set(exercises())


def test_functions_table_without_the_reference_comes_from_the_stubs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The students' wheel ships no reference: the stubs name the same functions."""
    with_reference = exercise_functions()
    stubs = paths.exercises_dir()
    monkeypatch.setattr(paths, "exercises_dir", lambda: stubs)
    monkeypatch.setattr(paths, "reference_dir", lambda: tmp_path / "no-reference")
    monkeypatch.setattr(paths, "suites_dir", lambda: tmp_path / "no-reference" / "suites")
    (tmp_path / "course.toml").write_text((paths.course_root() / "course.toml").read_text())
    (tmp_path / "exercises").symlink_to(stubs)
    monkeypatch.setattr(paths, "course_root", lambda: tmp_path)  # a course of its own: not cached
    assert exercise_functions() == with_reference


def test_a_cell_that_is_not_python_and_defines_nothing_graded_is_left_out() -> None:
    """A half-written experiment no longer stops the functions; the note says so."""
    data = notebook(cell("import numpy as np\n"), cell("for i in range(3)\n    print(i)\n"),
                    cell("def relu(z):\n    return np.maximum(0, z)\n"), cell("relu(3)?\n"))
    modules, notes = notebook_modules("nb.ipynb", data)
    assert "print(i)" not in modules["activations"]
    assert notes == ("nb.ipynb: the grader ran only what your graded functions need and left "
                     "out cells 2, 4, which are not valid Python.",)
    compile(modules["activations"], "activations.py", "exec")


def test_lines_keep_their_cell_and_place() -> None:
    """Pruned code is blank where code was left out, so each line is still in its cell."""
    data = notebook(cell("import numpy as np\nimport matplotlib.pyplot as plt\nplt.plot([1])\n"),
                    cell("x = 1\n\ndef relu(z):\n    return np.maximum(0, z)\n"))
    modules, _ = notebook_modules("nb.ipynb", data)
    lines = modules["activations"].split("\n")
    assert lines == ["# %% notebook nb.ipynb, cell 1", "import numpy as np", "", "", "",
                     "# %% notebook nb.ipynb, cell 2", "", "", "def relu(z):",
                     "    return np.maximum(0, z)", ""]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_clean_cell_never_raises(source: str) -> None:
    """Property: any cell text cleans without error, dropping no more lines than it has."""
    cleaned, dropped = clean_cell(source)
    assert isinstance(cleaned, str) and 0 <= dropped <= source.count("\n") + 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["cell_type", "source", "x"]), inner, max_size=3),
    max_leaves=12,
)
_CELLS = st.lists(
    st.fixed_dictionaries(
        {"cell_type": st.sampled_from(["code", "markdown", 3]), "source": _JSON | st.text(max_size=60)}
    ),
    max_size=4,
)
_NOTEBOOKS = st.one_of(
    st.binary(max_size=300),
    _JSON.map(lambda v: json.dumps({"nbformat": 4, "cells": v}).encode()),
    _CELLS.map(lambda cells: json.dumps({"nbformat": 4, "cells": cells}).encode()),
)


@settings(max_examples=200, deadline=None)
@given(_NOTEBOOKS)
def test_notebook_modules_only_raises_notebook_error(data: bytes) -> None:
    """Property: arbitrary bytes either convert or raise NotebookError."""
    try:
        modules, notes = notebook_modules("x.ipynb", data)
    except NotebookError:
        return
    assert all(isinstance(text, str) for text in modules.values())


# ---------------------------------------------------------------------------------------------
# through discovery


def test_an_invalid_notebook_submission_is_an_error(tmp_path: Path) -> None:
    """The student learns the notebook itself is broken."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.ipynb").write_text("{oops")
    (subs / "bob.ipynb").write_bytes(notebook(version=3))
    alice, bob = discover(subs, tmp_path / "work")
    assert alice.error == (
        "alice.ipynb is not a valid notebook: invalid JSON "
        "(Expecting property name enclosed in double quotes at line 1)"
    )
    assert alice.problems == () and alice.sources == {}
    assert bob.error == (
        "bob.ipynb is not a valid notebook: it uses nbformat 3, but only nbformat 4 is supported"
    )


def test_a_notebook_inside_a_folder_or_zip_fills_missing_modules(tmp_path: Path) -> None:
    """.py files win; a notebook supplies only what they lack, with its helpers beside it."""
    subs = tmp_path / "subs"
    (subs / "alice" / "work").mkdir(parents=True)
    (subs / "alice" / "work" / "lesson.ipynb").write_bytes(LESSON)
    (subs / "alice" / "work" / "tools.py").write_text("T = 1\n")
    with zipfile.ZipFile(subs / "bob.zip", "w") as zf:
        zf.writestr("leaky_relu.py", "def leaky_relu(z):\n    return z\n")
        zf.writestr("lesson.ipynb", LESSON)
    alice, bob = discover(subs, tmp_path / "work")
    assert set(alice.sources) == {"activations", "leaky_relu", "softmax_debug", "tools"}
    assert alice.problems == (
        "work/lesson.ipynb: the grader ran only what your graded functions need and left out "
        "cell 7 (calls to relu()); 5 lines of IPython magics or shell commands.",
        "activations, leaky_relu, softmax_debug were taken from the notebook work/lesson.ipynb",
    )
    assert bob.sources["leaky_relu"] == "def leaky_relu(z):\n    return z\n"
    assert set(bob.sources) == {"activations", "leaky_relu", "softmax_debug"}


def test_a_notebook_without_exercise_functions(tmp_path: Path) -> None:
    """A notebook that defines nothing the grader knows leaves the submission ungradable."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.ipynb").write_bytes(notebook(cell("x = 1\n")))
    (alice,) = discover(subs, tmp_path / "work")
    assert alice.problems == ("alice.ipynb defines none of the exercise functions",)
    assert alice.error is not None and alice.error.startswith("no exercise files found in alice.ipynb")
